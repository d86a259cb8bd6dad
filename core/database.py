"""Engine tuning that depends on the database in use."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import Table, event
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine


def configure_engine(app: Flask, engine: Engine) -> None:
    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        # WAL lets the web process read while the worker writes; foreign keys are off by
        # default in SQLite; a busy timeout turns lock contention into a short wait.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


# Rows per multi-row INSERT on PostgreSQL: a fixed size, so SQLAlchemy compiles the
# statement once and reuses it, and well under PostgreSQL's 65,535 bind parameters.
MULTI_VALUES_ROWS = 500


def insert_rows(conn: Connection, table: Table, rows: list[dict], build=None) -> None:
    """Insert many rows fast: multi-row VALUES on PostgreSQL (psycopg would send one
    statement per row), the driver's executemany on SQLite (already a tight C loop).

    `build(stmt)` may turn the INSERT into an upsert.
    """
    if not rows:
        return
    build = build or (lambda stmt: stmt)
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    if conn.dialect.name != "postgresql":
        conn.execute(build(module.insert(table)), rows)
        return
    for start in range(0, len(rows), MULTI_VALUES_ROWS):
        conn.execute(build(module.insert(table).values(rows[start:start + MULTI_VALUES_ROWS])))
