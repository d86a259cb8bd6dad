"""Fixture chain: app -> db_session -> client / runner, on SQLite or on TEST_DATABASE_URL.

The schema is built by the Alembic migrations (never create_all), once per test run; each
test starts from the reference data alone.
"""
from __future__ import annotations

import itertools
import os
from datetime import date

import pytest
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import delete, text

from core.auth.services import create_user, issue_token
from core.extensions import db
from core.models import Base
from core.reference.models import CategoryFloor
from core.reference.seed import BASELINE, seed_reference
from factory import create_app

REFERENCE_TABLES = {"regions", "categories", "category_floors", "alembic_version"}


def _reset_schema(url: str) -> None:
    if url.startswith("postgresql"):
        from sqlalchemy import create_engine

        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()


@pytest.fixture(scope="session")
def database_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        return url
    return f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite'}"


@pytest.fixture(scope="session")
def app(database_url, tmp_path_factory):
    from config import _normalise_db_url

    _reset_schema(_normalise_db_url(database_url))
    app = create_app("testing", {"DATABASE_URL": database_url})
    app.instance_path = str(tmp_path_factory.mktemp("instance"))
    with app.app_context():
        upgrade()
        seed_reference(db.session)
        db.session.remove()
    return app


@pytest.fixture
def db_session(app):
    """The app's session inside an app context; every table but the reference ones is emptied after."""
    with app.app_context():
        yield db.session
        db.session.rollback()
        clean_database()
        db.session.remove()


def clean_database() -> None:
    session = db.session
    # Floors set by tests go first: they name the user who set them.
    session.execute(delete(CategoryFloor).where(CategoryFloor.effective_from != BASELINE))
    if session.get_bind().dialect.name == "postgresql":
        names = ", ".join(t.name for t in Base.metadata.sorted_tables if t.name not in REFERENCE_TABLES)
        session.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        session.commit()
        seed_reference(session)  # CASCADE also emptied category_floors (created_by_id -> users)
    else:
        for table in reversed(Base.metadata.sorted_tables):
            if table.name not in REFERENCE_TABLES:
                session.execute(table.delete())
    session.commit()
    session.info.pop("reference_trees", None)


class IsolatedClient(FlaskClient):
    """Each request gets its own app context (its own `g` and database session), as in production."""

    def open(self, *args, **kwargs):
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def client(app, db_session):
    app.test_client_class = IsolatedClient
    return app.test_client()


@pytest.fixture
def runner(app, db_session):
    return app.test_cli_runner()


_names = itertools.count(1)


@pytest.fixture
def make_user(db_session):
    """Create a user with roles and a region; return (user, bearer headers)."""

    def make(*roles: str, region: str = "330000", username: str | None = None):
        name = username or f"user{next(_names)}"
        user = create_user(db_session, name, "correct horse battery", list(roles or ("admin",)), region)
        token = issue_token(db_session, name)
        return user, {"Authorization": f"Bearer {token}"}

    return make


@pytest.fixture
def admin(make_user):
    return make_user("admin")


_samples = itertools.count(1)


def batch_payload(**overrides) -> dict:
    """A valid batch body for the API; override any field."""
    body = {
        "sample_no": f"T{next(_samples):08d}",
        "sampled_on": "2025-03-10",
        "reported_on": "2025-03-20",
        "category": "food.dairy.liquid_milk",
        "region": "330106",
        "enterprise_credit_code": VALID_CODE,
        "enterprise_name": "杭州示例乳业有限公司",
        "product": "纯牛奶",
        "stage": "production",
        "conclusion": "pass",
        "items": [{"item": "蛋白质", "value": "3.1", "unit": "g/100g", "limit": "≥2.9",
                   "standard": "GB 25190-2010", "verdict": "pass"}],
    }
    body.update(overrides)
    return body


def make_code(prefix17: str) -> str:
    from inspection.credit_code import check_digit

    return prefix17 + check_digit(prefix17)


VALID_CODE = make_code("91330106MA2B3C4D5")  # registered in Hangzhou (local)
OUTSIDE_CODE = make_code("91320100MA1X2Y3W4")  # registered in Nanjing (not local)
TODAY = date.today()
