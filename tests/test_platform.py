"""Platform: probes, migrations vs models, safe exports, settings, error shape, job queue, worker."""
from __future__ import annotations

import csv
import io
import runpy
from types import SimpleNamespace
from datetime import timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import inspect, text

import factory
from core.export import csv_bytes, safe_cell
from core.extensions import api, db
from core.jobs import Job, claim_next, enqueue
from core.models import Base, built_on
from core.worker import build_scheduler
from factory import create_app

MIGRATIONS = Path(factory.__file__).parent / "migrations"
ERROR_KEYS = {"code", "status", "message"}


@pytest.fixture
def head() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()


@pytest.fixture
def fresh_app(monkeypatch, tmp_path):
    """Build throwaway apps; the shared flask-smorest Api is pointed back at the test app after."""
    saved = {k: getattr(api, k) for k in ("_app", "config", "spec")}
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    yield lambda name="testing", overrides=None: create_app(name, overrides)
    for key, value in saved.items():
        setattr(api, key, value)


def test_healthz(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_the_migration(client, head):
    response = client.get("/readyz")

    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["migration"] == head


def test_readyz_is_503_when_the_schema_is_not_at_head(client, db_session, head):
    db_session.execute(text("UPDATE alembic_version SET version_num = 'deadbeef'"))
    db_session.commit()
    try:
        response = client.get("/readyz")
    finally:
        db_session.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})
        db_session.commit()

    assert response.status_code == 503
    body = response.get_json()
    assert body["status"] == "unavailable"
    assert body["migration"] == "deadbeef"
    assert body["expected"] == [head]
    assert client.get("/readyz").status_code == 200


def test_readyz_reads_the_migration_scripts_once_per_process(app, client, head, monkeypatch):
    import core.health

    reads = []
    real = core.health.ScriptDirectory.from_config
    monkeypatch.setattr(core.health.ScriptDirectory, "from_config",
                        lambda config: reads.append(config) or real(config))
    app.extensions.pop("migration_heads", None)

    answers = [client.get("/readyz") for _ in range(3)]

    assert [a.get_json()["migration"] for a in answers] == [head] * 3
    assert len(reads) == 1


def test_a_gunicorn_worker_is_warmed_before_its_first_request(app, head, monkeypatch):
    settings = runpy.run_path(str(Path(factory.__file__).parent / "gunicorn.conf.py"))
    frozen = []
    monkeypatch.setattr(settings["gc"], "freeze", lambda: frozen.append(True))
    app.extensions.pop("migration_heads", None)

    settings["post_worker_init"](SimpleNamespace(wsgi=app))

    assert app.extensions["migration_heads"] == {head}  # the probe ran in-process
    assert frozen == [True]


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "compare_type": True, "include_object": built_on(connection.dialect.name)})
        diff = compare_metadata(context, Base.metadata)

    assert diff == []


def test_the_storage_each_database_gets_for_fast_imports(app):
    """SQLite: no (category, region) list index, the aggregate in its key's B-tree (0008)."""
    with app.app_context(), db.engine.connect() as connection:
        indexes = {ix["name"] for ix in inspect(connection).get_indexes("batches")}
        if connection.dialect.name == "sqlite":
            assert "ix_batches_category_region_sampled_id" not in indexes
            sql = connection.scalar(text("SELECT sql FROM sqlite_master WHERE name = 'series_months'"))
            assert "WITHOUT ROWID" in sql
        else:
            assert "ix_batches_category_region_sampled_id" in indexes


@pytest.mark.parametrize("value", ["=1+1", "+8613800000000", "-2+3", "@SUM(A1)", "=HYPERLINK(\"http://x\")"])
def test_safe_cell_escapes_formula_starts(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", [-5, 0, 3.25, -0.5, "plain", "牛奶", "a=b", "", None, True])
def test_safe_cell_leaves_numbers_and_other_values_alone(value):
    assert safe_cell(value) == value


def test_csv_bytes_escapes_cells_and_keeps_numbers():
    data = csv_bytes(["name", "value", "note"],
                     [["=cmd|' /C calc'!A0", -3, None], ["纯牛奶", 2.5, "@mention"], ["-x", 0, "ok"]])

    assert data.startswith("\ufeff".encode("utf-8"))
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert rows == [
        ["name", "value", "note"],
        ["'=cmd|' /C calc'!A0", "-3", ""],
        ["纯牛奶", "2.5", "'@mention"],
        ["'-x", "0", "ok"],
    ]


def test_production_config_refuses_to_start_without_secrets(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)

    with pytest.raises(RuntimeError) as both:
        create_app("production", {})
    with pytest.raises(RuntimeError) as secret_only:
        create_app("production", {"DATABASE_URL": "sqlite:///ignored.sqlite"})

    assert "SECRET_KEY" in str(both.value) and "DATABASE_URL" in str(both.value)
    assert "SECRET_KEY" in str(secret_only.value) and "DATABASE_URL" not in str(secret_only.value)


def test_production_config_builds_with_secrets(fresh_app, monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "a-real-secret")

    app = fresh_app("production")

    assert app.config["SECRET_KEY"] == "a-real-secret"
    assert app.config["TESTING"] is False and app.config["DEBUG"] is False


def test_environment_overrides_config_values(fresh_app, monkeypatch, tmp_path):
    monkeypatch.setenv("IMPORT_MAX_BYTES", "1234")
    monkeypatch.setenv("WORKER_JOB_POLL_SECONDS", "0.5")
    monkeypatch.setenv("TIMEZONE", "UTC")
    monkeypatch.setenv("DEBUG", "false")
    monkeypatch.setenv("SQLALCHEMY_ENGINE_OPTIONS", '{"pool_pre_ping": false}')

    app = fresh_app("testing")

    assert app.config["IMPORT_MAX_BYTES"] == 1234
    assert app.config["WORKER_JOB_POLL_SECONDS"] == 0.5
    assert app.config["TIMEZONE"] == "UTC"
    assert app.config["DEBUG"] is False
    assert app.config["SQLALCHEMY_ENGINE_OPTIONS"] == {"pool_pre_ping": False}
    assert app.config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'fresh.sqlite'}"
    assert app.config["IMPORT_ASYNC_BYTES"] == 64 * 1024  # untouched values keep the class default


def test_explicit_overrides_beat_the_environment(fresh_app, monkeypatch):
    monkeypatch.setenv("IMPORT_MAX_ROWS", "10")

    app = fresh_app("testing", {"IMPORT_MAX_ROWS": 20})

    assert app.config["IMPORT_MAX_ROWS"] == 20


def test_unknown_api_route_is_404_json_after_auth(client, admin):
    _, headers = admin

    unauthenticated = client.get("/api/no-such-thing")
    response = client.get("/api/no-such-thing", headers=headers)

    assert unauthenticated.status_code == 401
    assert response.status_code == 404
    body = response.get_json()
    assert ERROR_KEYS <= set(body)
    assert body["code"] == 404 and body["status"] == "Not Found"


def test_unknown_page_outside_the_api_is_a_404_page(client):
    response = client.get("/no-such-page")

    assert response.status_code == 404
    assert response.mimetype == "text/html"  # a browser reads it (tests/test_web_error_pages.py)


def test_method_not_allowed_is_json(client, admin):
    _, headers = admin

    response = client.delete("/api/regions", headers=headers)

    assert response.status_code == 405
    assert response.is_json
    body = response.get_json()
    assert ERROR_KEYS <= set(body)
    assert body["code"] == 405 and body["status"] == "Method Not Allowed"


def test_jobs_are_claimed_oldest_first_and_only_once(db_session):
    first = enqueue(db_session, "test.kind", {"n": 1}, b"payload-1", None)
    second = enqueue(db_session, "test.kind", {"n": 2}, None, None)
    assert first.status == second.status == "queued"

    claimed = [claim_next(db_session), claim_next(db_session), claim_next(db_session)]

    assert [job.id for job in claimed[:2]] == [first.id, second.id]
    assert claimed[2] is None
    for job_id in (first.id, second.id):
        db_session.expire_all()
        job = db_session.get(Job, job_id)
        assert job.status == "running"
        assert job.started_at is not None
    assert claim_next(db_session) is None


def test_a_running_job_is_not_claimed_again(db_session):
    job = enqueue(db_session, "test.kind", {}, None, None)
    assert claim_next(db_session).id == job.id

    later = enqueue(db_session, "test.kind", {}, None, None)

    assert claim_next(db_session).id == later.id
    assert claim_next(db_session) is None
    db_session.expire_all()
    assert db_session.get(Job, job.id).status == "running"


def test_worker_scheduler_polls_the_job_queue_without_overlap(app):
    scheduler = build_scheduler(app)

    job = scheduler.get_job("job-queue")
    assert job is not None
    assert scheduler._job_defaults["coalesce"] is True
    assert scheduler._job_defaults["max_instances"] == 1
    assert job.trigger.interval == timedelta(seconds=app.config["WORKER_JOB_POLL_SECONDS"])
    assert str(scheduler.timezone) == app.config["TIMEZONE"]
    assert scheduler.running is False


def test_a_configured_default_rate_limit_still_applies(fresh_app, app):
    """Without default limits the limiter's per-request middleware is left out
    (core/extensions.init_limiter); configuring one brings it back."""
    from core.extensions import limiter

    limited = fresh_app("testing", {"RATELIMIT_DEFAULT": "2 per minute"})
    try:
        web = limited.test_client()
        assert [web.get("/healthz").status_code for _ in range(3)] == [200, 200, 429]
    finally:
        limiter.limit_manager.set_default_limits([])  # the shared limiter: back to no default
        limiter.reset()
