"""`flask backup` then `flask restore` into an empty database: every record and the audit trail.

The restore runs as a real `flask restore` child process pointed at a new database (a new
file on SQLite, a new database on the same server on PostgreSQL); every table is then
compared with the source row by row (ordered by primary key, content hashed).
"""
from __future__ import annotations

import hashlib

import pytest
from sqlalchemy import create_engine, func, inspect, make_url, select, text

from config import _normalise_db_url
from core.audit import AuditRecord
from core.clock import shift_month
from core.models import Base
from tests.conftest import batch_payload
from tests.faultkit import Child, flask_env
from tests.series_data import csv_rows, load
from warning.scan import run_scan


@pytest.fixture
def empty_database(database_url, tmp_path):
    """The URL of a new, empty database beside the test one (dropped afterwards)."""
    url = make_url(_normalise_db_url(database_url))
    if url.get_backend_name() == "sqlite":
        yield str(url.set(database=str(tmp_path / "restored.sqlite")))
        return
    name = f"{url.database}_restore"
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def records(db_session, client, admin):
    """Some of everything: users and tokens, batches created, amended and voided, an import,
    a warning scan with alerts, and the audit trail of all of it."""
    user, headers = admin
    ids = [client.post("/api/batches", headers=headers, json=batch_payload()).get_json()["id"]
           for _ in range(3)]
    assert client.patch(f"/api/batches/{ids[0]}", headers={**headers, "If-Match": '"1"'},
                        json={"product": "更正后的产品", "reason": "typo"}).status_code == 200
    assert client.post(f"/api/batches/{ids[1]}/void", headers=headers,
                       json={"reason": "duplicate"}).status_code == 200
    load(db_session, user.id, "".join(csv_rows(region, shift_month("2024-06", k), 20, 8 if k > -3 else 0)
                                      for k in range(-23, 1) for region in ("330106", "330212")))
    run_scan(db_session, "2024-06", "test")
    return user


def table_digests(url: str) -> dict[str, tuple[int, str]]:
    """table -> (rows, sha256 of its rows ordered by primary key)."""
    engine = create_engine(url)
    names = inspect(engine).get_table_names()
    out = {}
    try:
        with engine.connect() as conn:
            for table in Base.metadata.sorted_tables:
                assert table.name in names, f"{table.name} missing"
                rows = conn.execute(select(table).order_by(*table.primary_key.columns)).all()
                out[table.name] = (len(rows), hashlib.sha256(repr([tuple(r) for r in rows]).encode()).hexdigest())
            out["alembic_version"] = (1, conn.scalar(text("SELECT version_num FROM alembic_version")))
    finally:
        engine.dispose()
    return out


def test_backup_restores_into_an_empty_database_with_every_record(database_url, empty_database, records,
                                                                   db_session, runner, tmp_path):
    dump = tmp_path / "inspection.backup"
    made = runner.invoke(args=["backup", str(dump)])
    assert made.exit_code == 0, made.output
    assert dump.stat().st_size > 0 and not (tmp_path / "inspection.backup.partial").exists()

    code, out, err = Child(["-m", "flask", "restore", str(dump)],
                           flask_env(empty_database, tmp_path / "instance"), tmp_path, "restore").finish()
    assert code == 0, err

    source = table_digests(_normalise_db_url(database_url))
    restored = table_digests(_normalise_db_url(empty_database))
    assert restored == source
    counts = {name: n for name, (n, _) in source.items()}
    assert counts["audit_log"] == db_session.scalar(select(func.count()).select_from(AuditRecord)) > 5
    assert counts["batches"] > 900 and counts["batch_revisions"] == 2 and counts["alerts"] >= 1


def test_restore_refuses_a_database_that_is_not_empty(database_url, records, db_session, runner, tmp_path):
    dump = tmp_path / "inspection.backup"
    assert runner.invoke(args=["backup", str(dump)]).exit_code == 0
    before = table_digests(_normalise_db_url(database_url))

    refused = runner.invoke(args=["restore", str(dump)])

    assert refused.exit_code == 1
    assert "not empty" in refused.output
    assert table_digests(_normalise_db_url(database_url)) == before


def test_restore_refuses_a_file_that_is_not_a_backup(empty_database, tmp_path):
    bogus = tmp_path / "notes.txt"
    bogus.write_text("not a backup")
    from core.backup import BackupError, restore

    with pytest.raises(BackupError, match="is not a .* backup made by `flask backup`"):
        restore(_normalise_db_url(empty_database), bogus)
    assert not inspect(create_engine(_normalise_db_url(empty_database))).get_table_names()
