"""An empty database for running migrations by hand: a schema of its own on PostgreSQL (beside the
suite's tables, dropped afterwards), a file on SQLite."""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text


@contextmanager
def migration_database(database_url: str, tmp_path: Path, schema: str) -> Iterator[str]:
    from config import _normalise_db_url

    if not database_url.startswith("postgres"):
        yield f"sqlite:///{tmp_path / f'{schema}.sqlite'}"
        return
    engine = create_engine(_normalise_db_url(database_url))
    with engine.begin() as conn:
        conn.execute(text(f"DROP SCHEMA IF EXISTS {schema} CASCADE"))
        conn.execute(text(f"CREATE SCHEMA {schema}"))
    try:
        yield database_url + ("&" if "?" in database_url else "?") + f"options=-csearch_path%3D{schema}"
    finally:
        with engine.begin() as conn:
            conn.execute(text(f"DROP SCHEMA {schema} CASCADE"))
        engine.dispose()
