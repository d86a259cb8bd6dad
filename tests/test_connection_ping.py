"""Pooled connections are tested before use only after sitting idle (core/database.ping_when_idle):
no round trip for a connection used moments ago, a dead idle one replaced unnoticed."""
from __future__ import annotations

import pytest
from sqlalchemy import create_engine, text

from config import _normalise_db_url
from core.database import ping_when_idle


@pytest.fixture
def engine_with(database_url, monkeypatch):
    """A pooled engine on the test database with `ping_when_idle(idle_seconds)`, counting pings."""
    made = []

    def make(idle_seconds: float):
        engine = create_engine(_normalise_db_url(database_url), pool_size=1, max_overflow=0)
        ping_when_idle(engine, idle_seconds)
        pings = []
        real = engine.dialect.do_ping
        monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_conn: (pings.append(dbapi_conn), real(dbapi_conn)))
        made.append(engine)
        return engine, pings

    yield make
    for engine in made:
        engine.dispose()


def backend(conn) -> object:
    """Something identifying the server side of a connection (its PostgreSQL process, else the
    driver connection itself)."""
    if conn.dialect.name == "postgresql":
        return conn.scalar(text("SELECT pg_backend_pid()"))
    return conn.connection.dbapi_connection


def test_a_connection_used_moments_ago_is_not_pinged(engine_with):
    engine, pings = engine_with(3600)
    for _ in range(5):
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT 1")) == 1

    assert pings == []


def test_an_idle_connection_is_pinged_before_use(engine_with):
    engine, pings = engine_with(0)  # every reuse counts as idle
    with engine.connect() as conn:
        first = backend(conn)
    assert pings == []  # a new connection needs no test

    with engine.connect() as conn:
        assert backend(conn) == first  # alive: the same connection is handed out

    assert len(pings) == 1


def test_an_idle_connection_that_fails_its_ping_is_replaced(engine_with, monkeypatch):
    engine, pings = engine_with(0)
    with engine.connect() as conn:
        first = backend(conn)
    monkeypatch.setattr(engine.dialect, "do_ping", lambda dbapi_conn: (pings.append(dbapi_conn), 1 / 0))

    with engine.connect() as conn:
        assert conn.scalar(text("SELECT 1")) == 1
        assert backend(conn) != first

    assert len(pings) == 1  # the new connection was not pinged


def test_a_connection_the_server_dropped_while_idle_is_replaced(engine_with, database_url):
    if not database_url.startswith("postgres"):
        pytest.skip("a server ending a connection: PostgreSQL only (SQLite is a file in the process)")
    engine, pings = engine_with(0)
    with engine.connect() as conn:
        first = backend(conn)
    killer = create_engine(_normalise_db_url(database_url))
    with killer.connect() as conn:
        assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": first}) is True
    killer.dispose()

    with engine.connect() as conn:  # no error: the ping found it dead, the pool opened another
        assert backend(conn) != first

    assert len(pings) == 1
