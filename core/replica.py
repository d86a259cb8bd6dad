"""Statistics read from a PostgreSQL read replica (STATS_DATABASE_URL), when one is configured.

Past one machine the primary takes every write, and the statistics, which read only the series
aggregate and tolerate a few seconds of replication lag, are the reads worth moving off it. The
token check, and every page that shows what a user has just written, stay on the primary.

A replica that cannot be reached does not take the statistics down: they are read from the
primary instead, and the replica is tried again after REPLICA_RETRY_SECONDS (one failed
connection attempt per process per interval, not one per request).
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Iterator

from flask import Flask, current_app
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from core.database import READ_ONLY, configure_engine
from core.extensions import db
from core.reference.trees import load_trees

log = logging.getLogger(__name__)

EXTENSION = "statistics_replica"


class Replica:
    def __init__(self, engine: Engine, retry_seconds: float) -> None:
        self.engine = engine
        self.retry_seconds = retry_seconds
        self.down_until = 0.0  # monotonic time before which the primary is used

    def open(self) -> Session | None:
        """A read-only session on the replica, or None while it is known to be unreachable."""
        if time.monotonic() < self.down_until:
            return None
        session = Session(bind=self.engine)
        try:
            session.connection(execution_options=READ_ONLY)
        except DBAPIError as exc:
            session.close()
            self.down_until = time.monotonic() + self.retry_seconds
            log.warning("statistics replica unreachable, reading the primary for %.0f s: %s",
                        self.retry_seconds, exc.orig)
            return None
        return session


def register_replica(app: Flask) -> None:
    """Create the replica's engine when STATS_DATABASE_URL is set (tuned like the primary's)."""
    url = app.config.get("STATS_DATABASE_URL")
    if not url:
        return
    options = dict(app.config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})
    # Test every connection handed out (one round trip per statistics request): a replica that
    # went away since its connection's last use then fails in `Replica.open`, which falls back
    # to the primary, instead of in the query, a 503 (the primary's pool pings only when idle).
    options["pool_pre_ping"] = True
    if url.startswith("postgresql"):
        # An unreachable host must cost a statistics request seconds, not the TCP timeout.
        options.setdefault("connect_args", {}).setdefault("connect_timeout", app.config["REPLICA_CONNECT_SECONDS"])
    engine = create_engine(url, **options)
    configure_engine(app, engine)
    app.extensions[EXTENSION] = Replica(engine, app.config["REPLICA_RETRY_SECONDS"])


@contextmanager
def statistics_session() -> Iterator[Session]:
    """The session statistics are read with: the replica's, else the request's own."""
    replica: Replica | None = current_app.extensions.get(EXTENSION)
    session = replica.open() if replica is not None else None
    if session is None:
        yield db.session
        return
    # The codes, scope and floors come from the primary's reference tables (already read, or
    # cached, for the request): the replica serves the aggregate only.
    session.info["reference_trees"] = load_trees(db.session)
    try:
        yield session
    finally:
        session.close()


def replica_state(app: Flask) -> str | None:
    """For /readyz: None without a replica, else whether statistics are read from it now."""
    replica: Replica | None = app.extensions.get(EXTENSION)
    if replica is None:
        return None
    session = replica.open()
    if session is None:
        return "unreachable (statistics read from the primary)"
    session.close()
    return "reachable"
