"""The composition root: builds the app and registers every package (the top floor)."""
from __future__ import annotations

import logging
import os
from pathlib import Path

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix

from config import CONFIGS, Config


def create_app(config: type[Config] | str | None = None, overrides: dict | None = None) -> Flask:
    """Build the application; `config` is a settings class or its name (env APP_CONFIG)."""
    app = Flask(__name__, instance_path=os.environ.get("INSTANCE_PATH") or str(Path(__file__).parent / "instance"))
    if config is None or isinstance(config, str):
        config = CONFIGS[config or os.environ.get("APP_CONFIG", "development")]
    app.config.from_mapping(config.load(overrides))
    app.json.ensure_ascii = False  # Chinese names stay readable in API responses
    if not app.config["SQLALCHEMY_DATABASE_URI"]:
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)
        app.config["SQLALCHEMY_DATABASE_URI"] = f"sqlite:///{Path(app.instance_path) / 'inspection.sqlite'}"
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    hops = int(app.config["TRUSTED_PROXY_HOPS"])
    if hops:
        # Behind a proxy every request comes from its address: the sign-in rate limit would
        # count everyone's attempts together and the audit trail name the proxy. Only as many
        # forwarded entries as there are proxies are believed (the rest a client can write).
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    register_extensions(app)
    register_blueprints(app)
    register_error_handlers(app)
    register_commands(app)
    register_jobs(app)
    register_metrics(app)
    return app


def register_extensions(app: Flask) -> None:
    from core.auth.sessions import register_sessions
    from core.database import configure_engine
    from core.extensions import api, db, init_limiter, migrate
    from core.replica import register_replica
    from core.security import register_security_headers

    db.init_app(app)
    migrate.init_app(app, db, directory=str(Path(__file__).parent / "migrations"))
    with app.app_context():
        configure_engine(app, db.engine)
    register_replica(app)
    api.init_app(app, spec_kwargs={"components": {"securitySchemes": {
        "bearerAuth": {"type": "http", "scheme": "bearer"}}}, "security": [{"bearerAuth": []}]})
    register_sessions(app)
    init_limiter(app)
    register_security_headers(app)
    # Models register on the shared metadata when imported.
    import core.auth.models  # noqa: F401
    import core.audit  # noqa: F401
    import core.jobs  # noqa: F401
    import core.reference.models  # noqa: F401
    import inspection.models  # noqa: F401
    import warning.models  # noqa: F401
    import followup.models  # noqa: F401
    import warning.notify.models  # noqa: F401


def register_blueprints(app: Flask) -> None:
    from core.audit_views import blp as audit_blp
    from core.auth.api_auth import register_api_auth
    from core.auth.views import blp as users_blp
    from core.docs import bp as docs_bp
    from core.extensions import api
    from core.health import bp as health_bp
    from core.jobs_views import blp as jobs_blp
    from core.reference.views import blp as reference_blp
    from followup.views import blp as followup_blp
    from inspection.views import blueprints as inspection_blueprints
    from warning.notify.views import blp as notify_blp
    from warning.views import blp as warning_blp
    from web import register_pages

    app.register_blueprint(health_bp)
    app.register_blueprint(docs_bp)
    register_pages(app)
    register_api_auth(app)
    for blp in (users_blp, audit_blp, reference_blp, jobs_blp, *inspection_blueprints, warning_blp,
                notify_blp, followup_blp):
        api.register_blueprint(blp)


def register_error_handlers(app: Flask) -> None:
    from core.errors import register_error_handlers as register

    register(app)


def register_commands(app: Flask) -> None:
    from core.auth.cli import users_cli
    from core.backup import backup_command, restore_command
    from core.reference.cli import seed_cli
    from core.worker import worker_command
    from followup.cli import followup_cli
    from inspection.cli import demo_cli, inspection_cli
    from warning.cli import warning_cli

    for group in (users_cli, seed_cli, inspection_cli, demo_cli, warning_cli, followup_cli):
        app.cli.add_command(group)
    for command in (worker_command, backup_command, restore_command):
        app.cli.add_command(command)


def register_metrics(app: Flask) -> None:
    from core.metrics import bp, job_families, register_metrics as register
    from warning.metrics import warning_families

    app.register_blueprint(bp)
    register(app, job_families, warning_families)


def register_jobs(app: Flask) -> None:
    from core.auth.jobs import register as register_auth_jobs
    from followup.jobs import register as register_followup_jobs
    from inspection.jobs import register as register_inspection_jobs
    from warning.jobs import register as register_warning_jobs

    register_inspection_jobs()
    register_warning_jobs()
    register_followup_jobs()
    register_auth_jobs()
