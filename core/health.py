"""Liveness and readiness probes for load balancers and orchestrators."""
from __future__ import annotations

from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from core.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is up."""
    return jsonify(status="ok")


def _schema_state() -> tuple[str | None, set[str]]:
    with db.engine.connect() as conn:
        conn.execute(text("SELECT 1"))
        current = MigrationContext.configure(conn).get_current_revision()
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    return current, set(script.get_heads())


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
    return jsonify(status="ok", database="reachable", migration=current)
