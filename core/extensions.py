"""Extensions, created unbound; `factory.create_app` binds them to an app."""
from flask import Flask, request
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_smorest import Api as SmorestApi
from flask_smorest import Blueprint as SmorestBlueprint
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFProtect
from marshmallow import RAISE, ValidationError
from webargs.flaskparser import FlaskParser
from webargs.multidictproxy import MultiDictProxy

from core.messages import N_
from core.models import Base

REPEATED_PARAMETER = N_("given more than once; give it once")


class StrictParser(FlaskParser):
    """Reads a query string as strictly as a body: an unknown parameter (a misspelt filter,
    which would otherwise be dropped and the answer read as unfiltered) and a repeated one (of
    which only the first value would count) are refused with 422 naming the parameter."""

    DEFAULT_UNKNOWN_BY_LOCATION = {**FlaskParser.DEFAULT_UNKNOWN_BY_LOCATION, "query": RAISE, "querystring": RAISE}

    def pre_load(self, location_data, *, schema, req, location):
        if location in ("query", "querystring") and isinstance(location_data, MultiDictProxy):
            repeated = {key: [REPEATED_PARAMETER] for key, values in location_data.data.lists()
                        if len(values) > 1 and key not in location_data.multiple_keys}
            if repeated:
                raise ValidationError(repeated)
        return location_data


class Blueprint(SmorestBlueprint):
    """The API's blueprints: flask-smorest's, with the strict argument parser."""

    ARGUMENTS_PARSER = StrictParser()


class Api(SmorestApi):
    """flask-smorest's Api, documenting the app's one error shape and completing every operation's
    documentation (errors it answers, who may call it, parameters' meaning: core/openapi.py)."""

    def __init__(self, *args, **kwargs):
        from core.openapi import ErrorSchema

        self.ERROR_SCHEMA = ErrorSchema
        super().__init__(*args, **kwargs)

    def _init_spec(self, *, extra_plugins=None, **options):
        from core.openapi import ContractPlugin

        super()._init_spec(extra_plugins=[*(extra_plugins or ()), ContractPlugin(self._app)], **options)


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
