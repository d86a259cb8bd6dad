"""`flask backup FILE` and `flask restore FILE`: the whole database, audit trail included.

PostgreSQL: `pg_dump --format=custom` / `pg_restore`, the client programs of the server's major
version (a newer pg_dump refuses nothing, an older one refuses a newer server), found in
/usr/lib/postgresql/<major>/bin, else PG_BIN_DIR, else on PATH. The password goes through the
environment, never the command line. SQLite: the online backup API, consistent while the app
writes. A restore goes only into an empty database, in one transaction: it never merges.
"""
from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
from flask import current_app, has_app_context
from flask.cli import with_appcontext
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.engine import URL

PG_MAGIC = b"PGDMP"
SQLITE_MAGIC = b"SQLite format 3\x00"


class BackupError(Exception):
    """The backup or restore cannot be done; the message says why."""


def _pg_env(url: URL) -> dict[str, str]:
    env = dict(os.environ)
    for var, value in (("PGHOST", url.host), ("PGPORT", url.port), ("PGUSER", url.username),
                       ("PGPASSWORD", url.password), ("PGDATABASE", url.database)):
        if value is not None:
            env[var] = str(value)
    env.update({f"PG{k.upper()}": str(v) for k, v in url.query.items() if k in ("sslmode", "sslrootcert")})
    return env


def _pg_program(name: str, url: URL) -> str:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            major = int(conn.scalar(text("SHOW server_version_num"))) // 10000
    finally:
        engine.dispose()
    configured = current_app.config.get("PG_BIN_DIR") if has_app_context() else None
    for folder in (configured, f"/usr/lib/postgresql/{major}/bin"):
        if folder and (Path(folder) / name).is_file():
            return str(Path(folder) / name)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"{name} (PostgreSQL {major} client) not found; install it or set PG_BIN_DIR")
    return found


def _run(args: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {done.stderr.strip()}")


def _sqlite_path(url: URL) -> str:
    if not url.database or url.database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return url.database


def backup(database_url: str, target: Path) -> None:
    """Write a consistent copy of the whole database to `target` (replaced only when complete)."""
    url = make_url(database_url)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        if url.get_backend_name() == "postgresql":
            _run([_pg_program("pg_dump", url), "--format=custom", "--no-owner", "--no-privileges",
                  f"--file={partial}"], _pg_env(url))
        elif url.get_backend_name() == "sqlite":
            source, copy = sqlite3.connect(_sqlite_path(url)), sqlite3.connect(partial)
            try:
                source.backup(copy)
            finally:
                copy.close()
                source.close()
        else:
            raise BackupError(f"no backup method for {url.get_backend_name()}")
        partial.replace(target)
    finally:
        partial.unlink(missing_ok=True)


def _tables(url: URL) -> list[str]:
    engine = create_engine(url)
    try:
        return inspect(engine).get_table_names()
    finally:
        engine.dispose()


def restore(database_url: str, source: Path) -> None:
    """Load a backup into the empty database at `database_url`."""
    url = make_url(database_url)
    with source.open("rb") as f:
        magic = f.read(16)
    backend = url.get_backend_name()
    expected = {"postgresql": PG_MAGIC, "sqlite": SQLITE_MAGIC}.get(backend)
    if expected is None:
        raise BackupError(f"no restore method for {backend}")
    if not magic.startswith(expected):
        raise BackupError(f"{source} is not a {backend} backup made by `flask backup`")
    absent = backend == "sqlite" and not Path(_sqlite_path(url)).exists()  # a new file is empty
    if not absent and _tables(url):
        raise BackupError("the target database is not empty; restore into a new, empty database")
    if backend == "postgresql":
        _run([_pg_program("pg_restore", url), "--no-owner", "--no-privileges", "--exit-on-error",
              "--single-transaction", f"--dbname={url.database}", str(source)], _pg_env(url))
    else:
        backup_file, target = sqlite3.connect(source), sqlite3.connect(_sqlite_path(url))
        try:
            backup_file.backup(target)
        finally:
            target.close()
            backup_file.close()


def _on_configured_database(step, file: Path) -> None:
    """Run `backup` or `restore` on the app's database; exit 1 with the reason if it cannot."""
    try:
        step(current_app.config["SQLALCHEMY_DATABASE_URI"], file)
    except BackupError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@click.command("backup")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup_command(file: Path) -> None:
    """Write the whole database (records and audit trail) to FILE."""
    _on_configured_database(backup, file)
    click.echo(f"backup written to {file} ({file.stat().st_size:,} bytes)")


@click.command("restore")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@with_appcontext
def restore_command(file: Path) -> None:
    """Load FILE (made by `flask backup`) into the configured database, which must be empty."""
    from core.extensions import db

    db.engine.dispose()  # no pooled connection may hold the database while it is loaded
    _on_configured_database(restore, file)
    click.echo(f"restored {file} into the configured database")
