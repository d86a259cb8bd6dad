"""Accounts: `flask users ...` commands, bearer tokens, and what the API accepts as authentication."""
from __future__ import annotations

import hashlib
from datetime import timedelta

from sqlalchemy import select

from core.auth.models import ApiToken, User
from core.auth.services import verify_password
from core.models import utcnow


def _user(db_session, name: str) -> User | None:
    return db_session.scalar(select(User).where(User.username == name))


def _create(runner, name: str, *extra: str):
    return runner.invoke(args=["users", "create", name, *extra])


def _token(runner, name: str, *extra: str) -> str:
    result = runner.invoke(args=["users", "token", name, *extra])
    assert result.exit_code == 0, result.output
    return result.output.strip().splitlines()[-1]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def _assert_401(response) -> None:
    assert response.status_code == 401
    body = response.get_json()
    assert body["code"] == 401
    assert body["status"] == "Unauthorized"
    assert isinstance(body["message"], str) and body["message"]


def test_create_user_with_role_region_and_password(runner, db_session):
    result = _create(runner, "alice", "--role", "inspector", "--region", "330106", "--password", "s3cret-pass")

    assert result.exit_code == 0, result.output
    assert "alice" in result.output
    user = _user(db_session, "alice")
    assert user is not None
    assert user.roles == {"inspector"}
    assert user.region_code == "330106"
    assert user.active is True
    assert user.password_hash != "s3cret-pass"
    assert verify_password(user, "s3cret-pass")
    assert not verify_password(user, "wrong-pass")


def test_create_existing_username_exits_1(runner, db_session):
    assert _create(runner, "bob", "--role", "admin", "--region", "330000", "--password", "pass12345").exit_code == 0

    result = _create(runner, "bob", "--role", "inspector", "--region", "330106", "--password", "other12345")

    assert result.exit_code == 1
    assert "already exists" in result.output
    assert _user(db_session, "bob").roles == {"admin"}  # the first user is untouched


def test_create_with_unknown_region_exits_1_with_a_message(runner, db_session):
    result = _create(runner, "carol", "--role", "inspector", "--region", "999999", "--password", "pass12345")

    assert result.exit_code == 1
    assert "999999" in result.output and "region" in result.output
    assert _user(db_session, "carol") is None


def test_role_given_twice_gives_both_roles(runner, db_session):
    result = _create(runner, "dave", "--role", "inspector", "--role", "supervisor",
                     "--region", "330100", "--password", "pass12345")

    assert result.exit_code == 0, result.output
    assert _user(db_session, "dave").roles == {"inspector", "supervisor"}


def test_password_is_prompted_twice_when_left_out(runner, db_session):
    result = runner.invoke(args=["users", "create", "erin", "--role", "agency", "--region", "330100"],
                           input="pw1234567\npw1234567\n")

    assert result.exit_code == 0, result.output
    user = _user(db_session, "erin")
    assert user is not None and verify_password(user, "pw1234567")
    assert "pw1234567" not in result.output  # hidden input is not echoed


def test_token_is_printed_alone_on_the_last_line_and_authenticates(runner, client, db_session):
    _create(runner, "frank", "--role", "inspector", "--region", "330106", "--password", "pass12345")

    token = _token(runner, "frank")

    assert " " not in token and len(token) >= 32
    assert client.get("/api/regions", headers=_bearer(token)).status_code == 200


def test_token_with_zero_expiry_days_is_refused(runner, db_session):
    _create(runner, "gina", "--role", "inspector", "--region", "330106", "--password", "pass12345")

    result = runner.invoke(args=["users", "token", "gina", "--expires-days", "0"])

    assert result.exit_code == 1
    assert "expir" in result.output
    assert db_session.scalars(select(ApiToken)).all() == []


def test_token_is_stored_only_as_its_sha256_digest(runner, db_session):
    _create(runner, "hank", "--role", "inspector", "--region", "330106", "--password", "pass12345")
    token = _token(runner, "hank")

    row = db_session.scalars(select(ApiToken)).one()

    assert row.digest == hashlib.sha256(token.encode("utf-8")).hexdigest()
    for column in ApiToken.__table__.columns:
        value = getattr(row, column.key)
        assert value is None or token not in str(value), column.key


def test_expired_token_is_401(runner, client, db_session):
    _create(runner, "ivy", "--role", "inspector", "--region", "330106", "--password", "pass12345")
    token = _token(runner, "ivy")
    assert client.get("/api/regions", headers=_bearer(token)).status_code == 200

    row = db_session.scalars(select(ApiToken)).one()
    row.expires_at = utcnow() - timedelta(seconds=1)
    db_session.commit()

    _assert_401(client.get("/api/regions", headers=_bearer(token)))


def test_revoked_token_is_401(runner, client, db_session):
    _create(runner, "jack", "--role", "inspector", "--region", "330106", "--password", "pass12345")
    token = _token(runner, "jack")
    assert client.get("/api/regions", headers=_bearer(token)).status_code == 200

    result = runner.invoke(args=["users", "revoke-tokens", "jack"])

    assert result.exit_code == 0, result.output
    assert "1" in result.output
    _assert_401(client.get("/api/regions", headers=_bearer(token)))


def test_token_of_a_disabled_user_is_401(make_user, client, db_session):
    user, headers = make_user("inspector")
    assert client.get("/api/regions", headers=headers).status_code == 200

    user.active = False
    db_session.commit()

    _assert_401(client.get("/api/regions", headers=headers))


def test_missing_header_is_401_json(client):
    response = client.get("/api/regions")

    _assert_401(response)
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_wrong_scheme_is_401_json(client, make_user):
    make_user("inspector")

    _assert_401(client.get("/api/regions", headers={"Authorization": "Basic x"}))


def test_garbage_token_is_401_json(client, make_user):
    make_user("inspector")

    _assert_401(client.get("/api/regions", headers=_bearer("not-a-real-token")))
    _assert_401(client.get("/api/regions", headers={"Authorization": "Bearer "}))


def test_openapi_document_is_public_and_declares_bearer_auth(client):
    response = client.get("/api/openapi.json")

    assert response.status_code == 200
    spec = response.get_json()
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("type") == "http" and s.get("scheme") == "bearer" for s in schemes.values())
    assert spec.get("security"), "the API as a whole should require the bearer scheme"
    assert set(spec["security"][0]) <= set(schemes)


def test_docs_page_is_public_html(client):
    response = client.get("/api/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert b"swagger" in response.data.lower()


def test_swagger_ui_assets_are_served_locally(client):
    response = client.get("/api/docs/static/swagger-ui-bundle.js")

    assert response.status_code == 200
    assert len(response.data) > 1000
    docs = client.get("/api/docs").get_data(as_text=True)
    assert "/api/docs/static/" in docs
    assert "cdn" not in docs.lower()
