"""Liveness and readiness probes for load balancers and orchestrators."""
from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify

from core.extensions import db
from core.replica import replica_state

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


def _expected_heads() -> set[str]:
    # The migrations a process ships with cannot change while it runs, and reading them (every
    # revision file is imported) cost 25-40 ms a probe: read them once per application.
    heads = current_app.extensions.get("migration_heads")
    if heads is None:
        migrate = current_app.extensions["migrate"]
        script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
        heads = current_app.extensions["migration_heads"] = frozenset(script.get_heads())
    return heads


def _schema_state() -> tuple[str | None, frozenset[str]]:
    with db.engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    return current, _expected_heads()


@bp.get("/readyz")
def readyz():
    """The database answers and its schema is at the newest migration."""
    try:
        current, heads = _schema_state()
    except Exception as exc:  # any failure to reach the database means not ready
        current_app.logger.warning("readyz: database unreachable: %s", exc)
        return jsonify(status="unavailable", database="unreachable"), 503
    if current not in heads:
        return jsonify(status="unavailable", database="reachable", migration=current,
                       expected=sorted(heads)), 503
    # A replica that is down leaves the process ready: its statistics are read from the primary.
    replica = replica_state(current_app)
    return jsonify(status="ok", database="reachable", migration=current,
                   **({"statistics_replica": replica} if replica else {}))
