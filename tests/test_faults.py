"""Faults: the database going away, processes killed mid-write, scans racing, amendments racing.

The killed processes are real child processes (`flask inspection import`, `flask warning scan`)
on the test database, ended with SIGKILL: nothing in them gets a chance to clean up.
"""
from __future__ import annotations

import sqlite3
import threading
from datetime import datetime, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, make_url, select, text

from config import _normalise_db_url
from core.clock import shift_month
from core.audit import AuditRecord
from core.extensions import api, db
from core.warmup import warm_up
from factory import create_app
from inspection.models import Batch, BatchRevision, Enterprise, ImportRun, SeriesMonth, TestItem
from tests.conftest import IsolatedClient, batch_payload
from tests.faultkit import Child, TcpProxy, children_of, flask_env, is_gone, wait_until
from tests.series_data import DROP, HEADER, csv_rows, load
from warning import lease
from warning.models import Alert, AlertEvent, Assessment, Lease, Scan
from warning.scan import SCAN_LEASE, ScanBusy, run_scan

AS_OF = "2024-06"
DEGRADING = "330212"


def count(session, model) -> int:
    return session.scalar(select(func.count()).select_from(model))


def is_postgres(url: str) -> bool:
    return url.startswith("postgres")


# --- the database unreachable -------------------------------------------------------------

@pytest.fixture
def proxied_app(app, database_url):
    """A second app on the test database, reached through a TCP proxy the test can cut."""
    if not is_postgres(database_url):
        pytest.skip("PostgreSQL only: SQLite is a file inside the process, it cannot become "
                    "unreachable over the network")
    url = make_url(_normalise_db_url(database_url))
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432))
    saved = {k: getattr(api, k) for k in ("_app", "config", "spec")}
    proxied = create_app("testing", {"DATABASE_URL": url.set(host="127.0.0.1", port=proxy.port)
                                     .render_as_string(hide_password=False)})
    proxied.test_client_class = IsolatedClient
    for key, value in saved.items():  # the shared flask-smorest Api goes back to the test app
        setattr(api, key, value)
    yield proxied, proxy
    proxy.cut()
    with proxied.app_context():
        db.engine.dispose()


def test_database_unreachable_is_503_and_service_resumes_by_itself(proxied_app, admin, db_session):
    proxied, proxy = proxied_app
    _, headers = admin
    web = proxied.test_client()
    assert web.get("/api/batches", headers=headers).status_code == 200
    assert web.post("/api/batches", headers=headers, json=batch_payload(sample_no="UP-1")).status_code == 201

    proxy.cut()
    listing = web.get("/api/batches", headers=headers)
    write = web.post("/api/batches", headers=headers, json=batch_payload(sample_no="DOWN-1"))
    ready = web.get("/readyz")
    alive = web.get("/healthz")

    for response in (listing, write):
        assert response.status_code == 503 and response.is_json
        body = response.get_json()
        assert body["code"] == 503 and body["status"] == "Service Unavailable"
        assert "database is unavailable" in body["message"]
    assert ready.status_code == 503 and ready.get_json()["database"] == "unreachable"
    assert alive.status_code == 200  # the process itself is fine: do not restart it

    proxy.restore()  # the same app, no restart: the pool reconnects (the failures marked its connections stale)
    assert web.get("/readyz").status_code == 200
    numbers = [b["sample_no"] for b in web.get("/api/batches", headers=headers).get_json()["items"]]
    assert numbers == ["UP-1"]  # the write refused during the outage left nothing behind
    assert web.post("/api/batches", headers=headers, json=batch_payload(sample_no="DOWN-1")).status_code == 201
    assert count(db_session, Batch) == 2


def test_a_worker_starting_while_the_database_is_down_starts_and_recovers(proxied_app, admin):
    proxied, proxy = proxied_app
    proxy.cut()

    warm_up(proxied)  # gunicorn's post_worker_init: must not raise, or the worker would not start

    web = proxied.test_client()
    assert web.get("/readyz").status_code == 503
    proxy.restore()
    assert web.get("/readyz").status_code == 200
    assert web.get("/api/batches", headers=admin[1]).status_code == 200


# --- an import killed halfway -------------------------------------------------------------

def writing(database_url: str, table: str):
    """A probe: has another process begun writing (an open write transaction)?"""
    url = _normalise_db_url(database_url)
    if is_postgres(url):
        engine = db.engine

        def probe() -> bool:
            with engine.connect() as conn:
                return bool(conn.scalar(text(
                    "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation "
                    "WHERE c.relname = :t AND l.mode = 'RowExclusiveLock' AND l.pid <> pg_backend_pid()"),
                    {"t": table}))
        return probe
    path = make_url(url).database

    def probe() -> bool:  # in WAL mode only one writer at a time: a writer blocks BEGIN IMMEDIATE
        conn = sqlite3.connect(path, timeout=0)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.rollback()
            return False
        except sqlite3.OperationalError as exc:
            return "locked" in str(exc)
        finally:
            conn.close()
    return probe


def big_file(path: Path, months: int = 40, regions=("330106", "330212", "330302", "330402", "330502")) -> int:
    body = "".join(csv_rows(region, f"{2021 + m // 12}-{1 + m % 12:02d}", 250, 5)
                   for m in range(months) for region in regions)
    path.write_text(HEADER + body, encoding="utf-8")
    return body.count("\n")


def test_an_import_killed_while_writing_stores_all_rows_or_none(app, database_url, db_session, admin,
                                                                 tmp_path):
    user, _ = admin
    rows = big_file(tmp_path / "big.csv")
    # Large enough to be parsed in a forked child: a killed import must take it down too (it
    # once outlived its parent, holding the database connection and its locks open).
    assert 0 <= app.config["IMPORT_PARALLEL_BYTES"] <= (tmp_path / "big.csv").stat().st_size
    env = flask_env(database_url, tmp_path / "instance")
    args = ["-m", "flask", "inspection", "import", str(tmp_path / "big.csv"), "--user", user.username]
    db_session.commit()

    child = Child(args, env, tmp_path, "import")
    wait_until(lambda: "validating rows" in child.output()[1], 120, "the import's progress")
    wait_until(writing(database_url, "batches"), 120, "the import to start writing")
    parsers = children_of(child.process.pid)
    child.kill()
    wait_until(lambda: all(map(is_gone, parsers)), 10, "the import's parsing process to end")

    db_session.expire_all()
    stored = count(db_session, Batch)
    assert stored in (0, rows), f"{stored} of {rows} rows stored by a killed import"
    if stored == 0:  # killed before its commit (what the probe aims at): no trace at all
        assert [count(db_session, m) for m in (ImportRun, Enterprise, TestItem, SeriesMonth)] == [0, 0, 0, 0]
        assert db_session.scalar(select(func.count()).where(AuditRecord.entity == "import_run")) == 0

    again = Child(args, env, tmp_path, "import-again")
    code, out, err = again.finish()
    assert code == 0, err
    db_session.expire_all()
    assert count(db_session, Batch) == rows
    assert db_session.scalar(select(func.sum(SeriesMonth.batches)).where(
        SeriesMonth.category_code == "*", SeriesMonth.region_code == "330000")) == rows


# --- a scan killed midway; two scans at once ----------------------------------------------

@pytest.fixture
def scan_world(db_session, admin):
    user, _ = admin
    rows = []
    for i, month in enumerate(shift_month(AS_OF, k) for k in range(-23, 1)):
        rows.append(csv_rows("330106", month, 20, 1 if i % 4 == 0 else 0))
        rows.append(csv_rows(DEGRADING, month, 20, DROP[i - 18] if i >= 18 else 0))
    load(db_session, user.id, "".join(rows))
    return user


def scan_rows(session) -> list[int]:
    session.expire_all()
    return [count(session, m) for m in (Scan, Assessment, Alert, AlertEvent)]


def slow_scan(database_url, tmp_path, name: str, pause: float, lease_seconds: float) -> Child:
    env = flask_env(database_url, tmp_path / "instance", SCAN_LEASE_SECONDS=str(lease_seconds))
    return Child(["-m", "tests.slow_scan", str(pause), "warning", "scan", "--as-of", AS_OF],
                 env, tmp_path, name)


def test_a_scan_killed_midway_leaves_nothing_and_its_lease_expires(database_url, db_session, scan_world,
                                                                  tmp_path):
    lease_seconds = 12
    child = slow_scan(database_url, tmp_path, "killed", pause=600, lease_seconds=lease_seconds)
    wait_until(lambda: "rows written" in child.output()[0], 120, "the scan to write its rows")
    child.kill()

    assert scan_rows(db_session) == [0, 0, 0, 0]
    holder, expires_at = db_session.execute(select(Lease.holder, Lease.expires_at)
                                            .where(Lease.name == SCAN_LEASE)).one()
    assert f":{child.process.pid}:" in holder  # the dead scan still holds it
    if expires_at > datetime.now(timezone.utc):
        with pytest.raises(ScanBusy):  # the dead scan's lease is still live: the next one waits
            run_scan(db_session, AS_OF, "next", lease_seconds=60)
        assert scan_rows(db_session) == [0, 0, 0, 0]

    wait_until(lambda: datetime.now(timezone.utc) > expires_at, lease_seconds + 5, "the lease to expire")
    code, out, err = Child(["-m", "flask", "warning", "scan", "--as-of", AS_OF],
                           flask_env(database_url, tmp_path / "instance"), tmp_path, "next").finish()
    assert code == 0, err
    scans, assessments, alerts, _ = scan_rows(db_session)
    assert scans == 1 and assessments > 0 and alerts >= 1
    assert db_session.scalar(select(Scan.status)) == "done"
    assert db_session.scalar(select(Lease).where(Lease.name == SCAN_LEASE)) is None  # released


def test_two_scans_started_together_run_once(database_url, db_session, scan_world, tmp_path):
    first, second = (slow_scan(database_url, tmp_path, name, pause=8, lease_seconds=600)
                     for name in ("first", "second"))
    outcomes = sorted([first.finish(), second.finish()], key=lambda o: o[0])
    scans, assessments, alerts, _ = scan_rows(db_session)
    assert assessments > 0 and alerts >= 1
    if outcomes[1][0] == 0 and database_url.startswith("sqlite"):
        # SQLite has one writer at a time: the second scan's lease request can wait on the first
        # scan's write lock (busy timeout) and then find the lease free. Waiting is allowed; what
        # must never happen is two scans running at once.
        assert scans == 2, outcomes
        one, two = db_session.execute(select(Scan.started_at, Scan.finished_at).order_by(Scan.id)).all()
        assert two.started_at >= one.finished_at
    else:
        (won, won_out, _), (lost, _, lost_err) = outcomes
        assert (won, lost) == (0, 1), outcomes
        assert "scan 1 as of 2024-06" in won_out
        assert "another scan is running (lease 'warning-scan' is held)" in lost_err
        assert scans == 1
    assert lease.acquire(db_session, SCAN_LEASE, "after", 60)  # the winner gave the lease back


# --- concurrent amendments over HTTP ------------------------------------------------------

def test_concurrent_amendments_over_http_one_winner_per_version_none_lost(app, db_session, admin):
    _, headers = admin
    app.test_client_class = IsolatedClient
    web = app.test_client()
    created = web.post("/api/batches", headers=headers, json=batch_payload(sample_no="RACE-HTTP"))
    assert created.status_code == 201
    batch_id = created.get_json()["id"]
    clients = 8
    start = threading.Barrier(clients)
    won: dict[int, list[str]] = {}  # version amended -> the writers that amended it
    refused = []
    lock = threading.Lock()

    def writer(n: int) -> None:
        own = app.test_client()
        start.wait()
        while True:  # a client that gets 412 reloads and tries again, as the API tells it to
            current = own.get(f"/api/batches/{batch_id}", headers=headers)
            version = int(current.headers["ETag"].strip('"'))
            response = own.patch(f"/api/batches/{batch_id}", headers={**headers, "If-Match": f'"{version}"'},
                                 json={"product": f"writer {n}", "reason": f"writer {n} corrects"})
            with lock:
                if response.status_code == 200:
                    won.setdefault(version, []).append(f"writer {n}")
                    return
                refused.append(response.status_code)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)

    assert sorted(won) == list(range(1, clients + 1))  # every version won exactly once
    assert all(len(w) == 1 for w in won.values()), won
    assert set(refused) <= {412}
    db_session.expire_all()
    batch = db_session.get(Batch, batch_id)
    assert batch.version == clients + 1 and batch.product == won[clients][0]
    revisions = db_session.scalars(select(BatchRevision).where(BatchRevision.batch_id == batch_id)
                                   .order_by(BatchRevision.version)).all()
    # none lost: each writer's product is on record as the version the next writer replaced
    assert [r.snapshot["product"] for r in revisions[1:]] == [won[v][0] for v in range(1, clients)]
    amends = db_session.scalars(select(AuditRecord).where(AuditRecord.action == "amend")).all()
    assert len(amends) == clients
