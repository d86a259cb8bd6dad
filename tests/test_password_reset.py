"""A user who forgot their password: an administrator resets it to a temporary one (page, API or
`flask users reset-password`), which opens only the change-password page until replaced."""
from __future__ import annotations

import re

from core.audit import list_audit
from core.auth.models import User
from tests.web_helpers import PASSWORD, csrf_token, fresh_limits, sign_in  # noqa: F401 (fixture)


def _new_password(client, current: str, new: str):
    return client.post("/account/password", data={"csrf_token": csrf_token(client, "/account/password"),
                                                   "current_password": current, "new_password": new,
                                                   "confirm": new})


def test_a_reset_by_page_gives_a_temporary_password_that_opens_only_the_password_page(app, client, make_user,
                                                                                      db_session):
    admin, _ = make_user("admin")
    user, _ = make_user("inspector", region="330106")
    admins, users, old_session = client, app.test_client(), app.test_client()  # `client`: one context a request
    sign_in(admins, admin.username)
    sign_in(old_session, user.username)
    assert old_session.get("/batches").status_code == 200

    page = admins.post(f"/admin/users/{user.id}/password",
                       data={"csrf_token": csrf_token(admins, f"/admin/users/{user.id}")})
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    temporary = re.search(r'<code id="temporary-password">([^<]+)</code>', page.data.decode()).group(1)
    assert len(temporary) == 12
    db_session.expire_all()
    assert db_session.get(User, user.id).must_change_password is True
    assert temporary not in db_session.get(User, user.id).password_hash
    entry = list_audit(db_session, 5, entity="user", entity_id=str(user.id), action="reset_password")
    assert [(e.user_id, e.entity_id) for e in entry] == [(admin.id, str(user.id))]

    # The old password and the session opened with it stop working
    assert old_session.get("/batches").status_code == 302
    assert sign_in(users, user.username, PASSWORD).status_code == 401
    # The temporary one signs in, but every page sends the user to choose a new password
    assert sign_in(users, user.username, temporary).status_code == 302
    for path in ("/", "/batches", "/batches/new", "/supervision/dashboard"):
        r = users.get(path)
        assert r.status_code == 302 and r.headers["Location"].endswith("/account/password"), path
    form = users.get("/account/password").data.decode()
    assert "管理员已重置您的密码" in form
    refused = users.post("/batches/new", data={"csrf_token": csrf_token(users, "/account/password")})
    assert refused.status_code == 302 and refused.headers["Location"].endswith("/account/password")
    # ... not the temporary password again
    same = _new_password(users, temporary, temporary)
    assert same.status_code == 200 and "新密码不能与当前密码相同" in same.data.decode()
    assert _new_password(users, temporary, "my-own-new-password").status_code == 302
    db_session.expire_all()
    assert db_session.get(User, user.id).must_change_password is False
    assert users.get("/batches").status_code == 200
    # The administrator's page says nothing is pending any more, and shows no password
    after = admins.get(f"/admin/users/{user.id}").data.decode()
    assert "temporary-password" not in after and "尚未修改" not in after


def test_the_reset_form_needs_its_csrf_token_and_an_administrator(app, client, make_user, db_session):
    admin, _ = make_user("admin")
    supervisor, _ = make_user("supervisor")
    user, _ = make_user("inspector")
    admins, supervisors = client, app.test_client()
    sign_in(admins, admin.username)
    sign_in(supervisors, supervisor.username)
    assert admins.post(f"/admin/users/{user.id}/password", data={}).status_code == 400  # CSRF refused
    token = csrf_token(supervisors, "/")
    assert supervisors.post(f"/admin/users/{user.id}/password", data={"csrf_token": token}).status_code == 403
    assert admins.post("/admin/users/999999/password",
                       data={"csrf_token": csrf_token(admins, "/")}).status_code == 404
    db_session.expire_all()
    assert db_session.get(User, user.id).must_change_password is False
    assert sign_in(app.test_client(), user.username, PASSWORD).status_code == 302


def test_a_reset_by_api_is_for_administrators_and_shown_once(client, make_user, db_session):
    _, admin_h = make_user("admin")
    user, user_h = make_user("inspector")
    assert client.post(f"/api/users/{user.id}/password", headers=user_h).status_code == 403
    assert client.post("/api/users/999999/password", headers=admin_h).status_code == 404
    r = client.post(f"/api/users/{user.id}/password", headers=admin_h)
    assert r.status_code == 201 and set(r.json) == {"password"}
    shown = client.get(f"/api/users/{user.id}", headers=admin_h).json
    assert shown["must_change_password"] is True and "password" not in shown
    # The user's API token is not the password: it still works (revoking tokens is its own call)
    assert client.get("/api/me", headers=user_h).status_code == 200
    # Changing the password over the API also ends the reset
    changed = client.post("/api/me/password", headers=user_h,
                          json={"current_password": r.json["password"], "new_password": "chosen-by-me-1"})
    assert changed.status_code == 204
    assert client.get(f"/api/users/{user.id}", headers=admin_h).json["must_change_password"] is False
    same = client.post("/api/me/password", headers=user_h,
                       json={"current_password": "chosen-by-me-1", "new_password": "chosen-by-me-1"})
    assert same.status_code == 422 and "new_password" in same.json["errors"]


def test_reset_password_command_prints_the_temporary_password_last(runner, client, make_user, db_session):
    user, _ = make_user("admin", username="Chen")
    result = runner.invoke(args=["users", "reset-password", "chen"])  # any case, as at sign-in
    assert result.exit_code == 0, result.output
    temporary = result.output.strip().splitlines()[-1]
    assert sign_in(client, "Chen", temporary).status_code == 302
    missing = runner.invoke(args=["users", "reset-password", "nobody"])
    assert missing.exit_code == 1 and "no user 'nobody'" in missing.output
