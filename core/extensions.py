"""Extensions, created unbound; `factory.create_app` binds them to an app."""
from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect

from core.models import Base

db = SQLAlchemy(model_class=Base)
migrate = Migrate(compare_type=True, render_as_batch=True)
api = Api()
login_manager = LoginManager()
csrf = CSRFProtect()
# Only routes that ask for a limit are limited (the login form); storage is a setting.
limiter = Limiter(key_func=get_remote_address, default_limits=[])


@limiter.request_filter
def _api_has_no_limits() -> bool:
    # Only web forms ask for a limit: should a default limit ever be configured (which brings
    # the per-request middleware back, see init_limiter), it does not reach the API.
    return request.path.startswith("/api/")


def init_limiter(app: Flask) -> None:
    """Bind the limiter. Its per-request middleware applies default, application and blueprint
    limits; none are used (only decorated routes are limited, the login form, and each such
    decorator checks its own), so unless a default or application limit is configured the
    middleware, which cost a trivial request a tenth of its time, is left out."""
    limiter.init_app(app)
    if not (app.config.get("RATELIMIT_DEFAULT") or app.config.get("RATELIMIT_APPLICATION")):
        app.before_request_funcs[None].remove(limiter._check_request_limit)
