"""Warming a fresh web worker before it takes its first request.

Without it, whoever reached a new gunicorn process first paid for the process's start: 105 ms
(profiled in-process on PostgreSQL) of SQLAlchemy configuring every mapper on the first ORM
statement, plus the lazy set-up of the request stack and the first pooled connection. Over HTTP
the first batch list of a new process took 72 ms before, 27-41 ms after (later ones 8-11 ms; the
rest is compiling each statement the first time it runs).
"""
from __future__ import annotations

from typing import Callable

from flask import Flask
from sqlalchemy.orm import configure_mappers


def on_warm_up(app: Flask, step: Callable[[], object]) -> None:
    """Have `warm_up` run `step` too (a package's own costly first use; core knows none of them)."""
    app.extensions.setdefault("warm_up", []).append(step)


def warm_up(app: Flask) -> None:
    """Configure the mappers, serve one readiness probe in-process, and run the steps packages
    added (`on_warm_up`).

    Never raises: a database that is down at start must not stop the worker (it recovers by
    itself once the database is back); the probe's 503 is logged by the probe itself.
    """
    try:
        configure_mappers()
        app.test_client().get("/readyz")
        for step in app.extensions.get("warm_up", []):
            step()
    except Exception as exc:  # noqa: BLE001 - see the docstring
        app.logger.warning("worker warm-up incomplete: %s", exc)
