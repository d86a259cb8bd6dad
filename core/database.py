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


def insert_rows(conn: Connection, table: Table, rows: list[dict], build=None) -> None:
    """Insert many rows with one Core executemany; `build(stmt)` may turn it into an upsert.

    Measured on PostgreSQL: psycopg's pipelined executemany beat both multi-row VALUES
    statements (recompiled per chunk) and SQLAlchemy's insertmanyvalues pages.
    """
    if not rows:
        return
    module = postgresql if conn.dialect.name == "postgresql" else sqlite
    stmt = module.insert(table)
    conn.execute(build(stmt) if build else stmt, rows)
