"""Users carry their full name: kept by the administrator (page, API, `flask users create --name`),
and the pages name people by it, with the username beside it."""
from __future__ import annotations

from sqlalchemy import select

from core.audit import list_audit
from core.auth.models import User
from tests.web_helpers import csrf_token, fresh_limits, sign_in  # noqa: F401 (fixture)


def test_the_api_keeps_a_full_name_trimmed_blank_as_none_and_audited(client, admin, db_session):
    me, h = admin
    created = client.post("/api/users", headers=h, json={"username": "wang3", "password": "long enough pw",
                                                          "roles": ["inspector"], "region": "330106",
                                                          "full_name": "  王强 "})
    assert created.status_code == 201 and created.json["full_name"] == "王强"
    user_id = created.json["id"]
    too_long = client.patch(f"/api/users/{user_id}", headers=h, json={"full_name": "王" * 65})
    assert too_long.status_code == 422 and "full_name" in too_long.json["errors"]
    cleared = client.patch(f"/api/users/{user_id}", headers=h, json={"full_name": "   "})
    assert cleared.status_code == 200 and cleared.json["full_name"] is None
    changes = [(e.before or {}).get("full_name", "-") for e in list_audit(db_session, 5, entity="user",
                                                                          entity_id=str(user_id))]
    assert changes == ["王强", "-"]  # newest first: the update from 王强, then the creation
    assert client.patch(f"/api/users/{user_id}", headers=h, json={"full_name": None}).status_code == 200


def test_pages_name_people_by_their_full_name(client, make_user, db_session):
    admin, _ = make_user("admin", username="chen1")
    sign_in(client, admin.username)
    token = csrf_token(client, "/admin/users")
    assert client.post("/admin/users", data={"csrf_token": token, "username": "wang3", "full_name": "王强",
                                             "password": "long enough pw", "roles": ["inspector"],
                                             "region": "330106"}).status_code == 302
    wang = db_session.scalar(select(User).where(User.username == "wang3"))
    assert wang.full_name == "王强" and "<td>王强</td>" in client.get("/admin/users").data.decode()
    edit = client.get(f"/admin/users/{wang.id}").data.decode()
    assert "<h1>王强 (wang3)</h1>" in edit and 'value="王强"' in edit
    # The audit log names the administrator who created the account
    assert client.post(f"/admin/users/{admin.id}", data={"csrf_token": token, "full_name": "陈立",
                                                         "roles": ["admin"], "region": "330000",
                                                         "active": "y"}).status_code == 302
    audit = client.get(f"/admin/audit?entity=user&entity_id={wang.id}").data.decode()
    assert "陈立 (chen1)</a>" in audit
    # The header and the welcome of the signed-in user
    other = client.application.test_client()
    sign_in(other, "wang3", "long enough pw")
    home = other.get("/").data.decode()
    assert '<span class="who">王强 (wang3) ·' in home and "王强" in home.split("<h1>")[1]


def test_create_command_takes_a_name(runner, db_session):
    result = runner.invoke(args=["users", "create", "zhou9", "--role", "agency", "--region", "330100",
                                 "--password", "long enough pw", "--name", "周婷"])
    assert result.exit_code == 0, result.output
    assert db_session.scalar(select(User.full_name).where(User.username == "zhou9")) == "周婷"
