"""Statistics from a read replica (STATS_DATABASE_URL): the pass rates come from it, everything
else from the primary, and a replica that cannot be reached falls back to the primary."""
from __future__ import annotations

import os
import time

import pytest
from flask_migrate import upgrade
from sqlalchemy import text

from core.auth.services import create_user, issue_token
from core.extensions import db
from core.reference.seed import seed_reference
from core.replica import statistics_session
from factory import create_app
from tests.conftest import IsolatedClient, batch_payload
from tests.faultkit import TcpProxy
from tests.web_helpers import sign_in
from warning.models import Scan

MARCH = "/api/stats/pass-rates?region=330106&from=2025-03&to=2025-03"


def _app(tmp_path, name: str, **config):
    app = create_app("testing", config)
    app.instance_path = str(tmp_path / name)
    app.test_client_class = IsolatedClient
    return app


def _post(client, headers, n: int, fail: bool = False) -> None:
    for _ in range(n):
        body = batch_payload(region="330106", sampled_on="2025-03-10", reported_on="2025-03-20",
                             **({"conclusion": "fail", "fail_reason": "菌落总数超标"} if fail else {}))
        assert client.post("/api/batches", json=body, headers=headers).status_code == 201


@pytest.fixture
def replica_url(tmp_path) -> str:
    """A database standing in for a replica: the same schema, and March 2025 in Xihu holding
    four batches, one failed (the primary will hold other figures)."""
    url = f"sqlite:///{tmp_path / 'replica.sqlite'}"
    source = _app(tmp_path, "source", DATABASE_URL=url)
    with source.app_context():
        upgrade()
        seed_reference(db.session)
        create_user(db.session, "writer", "correct horse battery", ["admin"], "330000")
        headers = {"Authorization": f"Bearer {issue_token(db.session, 'writer')}"}
        db.session.remove()
    client = source.test_client()
    _post(client, headers, 3)
    _post(client, headers, 1, fail=True)
    with source.app_context():
        db.engine.dispose()
    return url


def _march(client, headers) -> tuple[int, int]:
    answer = client.get(MARCH, headers=headers)
    assert answer.status_code == 200, answer.json
    return answer.json[0]["batches"], answer.json[0]["failed"]


def test_statistics_are_read_from_the_replica_and_all_else_from_the_primary(database_url, replica_url, tmp_path,
                                                                             admin, db_session):
    user, headers = admin  # on the primary: the token is checked there
    routed = _app(tmp_path, "routed", DATABASE_URL=database_url, STATS_DATABASE_URL=replica_url)
    client = routed.test_client()
    _post(client, headers, 2)  # written to the primary

    assert _march(client, headers) == (4, 1)  # the replica's figures
    db_session.add(Scan(as_of="2025-03", status="done", model_version="t", settings={}))  # on the primary only
    db_session.commit()
    record = client.get("/api/scans/track-record", headers=headers)  # read on the replica too: no scan there
    assert record.status_code == 200 and record.json["scans"] == []
    assert len(client.get("/api/batches", headers=headers).json["items"]) == 2  # the primary's list
    assert client.get("/readyz").json["statistics_replica"] == "reachable"
    # The pages that show statistics read them from the replica too.
    sign_in(client, user.username)
    dashboard = client.get("/supervision/dashboard?period=month&at=2025-03&region=330106").get_data(as_text=True)
    assert "75.0%" in dashboard and "100.0%" not in dashboard  # 3 of 4, where the primary has 2 of 2

    primary_only = _app(tmp_path, "primary", DATABASE_URL=database_url)  # no replica configured
    assert _march(primary_only.test_client(), headers) == (2, 0)
    assert [s["as_of"] for s in primary_only.test_client().get("/api/scans/track-record",
                                                                   headers=headers).json["scans"]] == ["2025-03"]
    assert "statistics_replica" not in primary_only.test_client().get("/readyz").json


def test_an_unreachable_replica_leaves_statistics_on_the_primary_and_is_retried_later(database_url, tmp_path,
                                                                                     admin, db_session,
                                                                                     monkeypatch):
    _, headers = admin
    unreachable = f"sqlite:///{tmp_path / 'no-such-folder' / 'replica.sqlite'}"
    routed = _app(tmp_path, "routed", DATABASE_URL=database_url, STATS_DATABASE_URL=unreachable,
                  REPLICA_RETRY_SECONDS=3600)
    client = routed.test_client()
    _post(client, headers, 2)

    assert _march(client, headers) == (2, 0)  # not a 503: the primary answered
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json["statistics_replica"].startswith("unreachable")
    replica = routed.extensions["statistics_replica"]
    tried = []
    monkeypatch.setattr(replica.engine.pool, "connect", lambda: tried.append(1))
    assert _march(client, headers) == (2, 0) and tried == []  # within the retry interval: not tried again
    monkeypatch.undo()

    (tmp_path / "no-such-folder").mkdir()  # the replica comes back, empty (nothing replicated yet)
    restored = _app(tmp_path, "restored", DATABASE_URL=unreachable)
    with restored.app_context():
        upgrade()
        seed_reference(db.session)
        db.session.remove()
    assert _march(client, headers) == (2, 0)  # the interval has not passed
    replica.down_until = 0.0  # it has now
    assert _march(client, headers) == (0, 0)  # read from the replica again
    assert client.get("/readyz").json["statistics_replica"] == "reachable"


def test_a_replica_that_goes_away_while_in_use_leaves_statistics_on_the_primary(database_url, tmp_path, admin):
    """The replica stops (or its network goes) between two statistics requests: the second is
    answered from the primary, not a 503 from the dead pooled connection (it was, once per
    process, until the replica's pool tested each connection it handed out)."""
    if not database_url.startswith("postgres"):
        pytest.skip("a replica reached over TCP: PostgreSQL only")
    from sqlalchemy.engine import make_url

    _, headers = admin
    target = make_url(database_url)
    proxy = TcpProxy((target.host or "127.0.0.1", target.port or 5432))
    try:
        through_proxy = target.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
        routed = _app(tmp_path, "routed", DATABASE_URL=database_url, STATS_DATABASE_URL=through_proxy,
                      REPLICA_RETRY_SECONDS=3600)
        client = routed.test_client()
        _post(client, headers, 2)
        assert _march(client, headers) == (2, 0)  # through the proxy: its connection stays pooled
        assert client.get("/readyz").json["statistics_replica"] == "reachable"
        proxy.cut()
        assert _march(client, headers) == (2, 0)  # not a 503: the primary answered
        assert client.get("/readyz").json["statistics_replica"].startswith("unreachable")
    finally:
        proxy.cut()


def _replayed(primary, standby) -> None:
    """Wait until the standby has replayed everything the primary has written so far."""
    with primary.connect() as conn:
        target = conn.scalar(text("SELECT pg_current_wal_lsn()"))
    for _ in range(200):
        with standby.connect() as conn:
            if conn.scalar(text("SELECT pg_wal_lsn_diff(pg_last_wal_replay_lsn(), :t) >= 0"), {"t": target}):
                return
        time.sleep(0.05)
    raise AssertionError("the standby did not catch up within 10 s")


def test_a_streaming_replica_serves_the_statistics_as_far_as_it_has_replayed(database_url, tmp_path, admin,
                                                                               db_session):
    """On a real PostgreSQL hot standby: with replay paused, a batch written on the primary is
    in the primary's figures and not yet in the statistics, which shows where they are read."""
    if not database_url.startswith("postgres"):
        pytest.skip("streaming replication: PostgreSQL only")
    replica_url = os.environ.get("TEST_REPLICA_URL")
    assert replica_url, ("the PostgreSQL run needs a standby of its cluster: "
                         "TEST_REPLICA_URL=$(scripts/postgres-standby.sh | tail -1), as scripts/test.sh sets it")
    _, headers = admin
    routed = _app(tmp_path, "routed", DATABASE_URL=database_url, STATS_DATABASE_URL=replica_url)
    primary_only = _app(tmp_path, "primary", DATABASE_URL=database_url).test_client()
    client = routed.test_client()
    with routed.app_context():
        primary, standby = db.engine, routed.extensions["statistics_replica"].engine
    _post(client, headers, 2)
    _replayed(primary, standby)
    assert _march(client, headers) == (2, 0)
    with routed.test_request_context(), statistics_session() as session:
        assert session.scalar(text("SELECT pg_is_in_recovery()")) is True  # the standby, read-only

    with standby.connect() as conn:
        conn.execute(text("SELECT pg_wal_replay_pause()"))
    try:
        _post(client, headers, 1, fail=True)
        assert _march(primary_only, headers) == (3, 1)
        assert _march(client, headers) == (2, 0)  # not replayed yet
    finally:
        with standby.connect() as conn:
            conn.execute(text("SELECT pg_wal_replay_resume()"))
    _replayed(primary, standby)
    assert _march(client, headers) == (3, 1)
