"""The role table, enforced on every API route, and regional scope (generated matrix)."""
from __future__ import annotations

import io
import re

import pytest

from core.auth.models import ROLES
from core.auth.permissions import GRANTS
from tests.conftest import batch_payload

# Routes any signed-in user may call, whatever their roles.
OPEN_TO_ALL = {"/api/me", "/api/me/password", "/api/jobs/<int(min=1, max=2147483647):job_id>"}
PUBLIC = ("/api/openapi.json", "/api/docs")


def api_operations(app):
    """Every (rule, method, permission) the app serves under /api."""
    ops = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api") or rule.rule.startswith(PUBLIC):
            continue
        view = app.view_functions[rule.endpoint]
        view_class = getattr(view, "view_class", None)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            handler = getattr(view_class, method.lower(), None) if view_class else view
            ops.append((rule.rule, method, getattr(handler, "permission", None)))
    return ops


def test_every_api_operation_declares_a_permission(app):
    ops = api_operations(app)
    assert len(ops) > 15
    missing = [(r, m) for r, m, p in ops if p is None and r not in OPEN_TO_ALL]
    assert missing == []


def concrete(rule: str) -> str:
    return re.sub(r"<[^>]+>", "999999", rule)


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(app, client, make_user, role):
    """Each role on each operation: 403 exactly when the role table says no."""
    _, headers = make_user(role, region="330000")
    for rule, method, permission in api_operations(app):
        if permission is None:
            continue
        response = client.open(concrete(rule), method=method, json={}, headers=headers)
        allowed = role in GRANTS[permission]
        if allowed:
            assert response.status_code not in (401, 403), (role, method, rule, response.json)
        else:
            assert response.status_code == 403, (role, method, rule, response.status_code)
            assert response.json["code"] == 403 and response.json["message"]


def test_anonymous_reaches_only_the_public_routes(app, client, db_session):
    for rule, method, _ in api_operations(app):
        response = client.open(concrete(rule), method=method, json={})
        assert response.status_code == 401, (method, rule)
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/healthz").status_code == 200


@pytest.fixture
def two_batches(client, admin):
    _, h = admin
    inside = client.post("/api/batches", json=batch_payload(sample_no="IN-1", region="330106"), headers=h).json
    outside = client.post("/api/batches", json=batch_payload(sample_no="OUT-1", region="330212"), headers=h).json
    return inside["id"], outside["id"]


def test_county_inspector_sees_and_writes_only_the_county(client, make_user, two_batches):
    inside, outside = two_batches
    _, h = make_user("inspector", region="330106")
    assert client.get(f"/api/batches/{inside}", headers=h).status_code == 200
    hidden = client.get(f"/api/batches/{outside}", headers=h)
    assert hidden.status_code == 404 and hidden.json["message"] == f"no batch {outside}"
    assert client.get(f"/api/batches/{outside}/revisions", headers=h).status_code == 404
    patch = client.patch(f"/api/batches/{outside}", json={"reason": "r", "product": "p"},
                         headers={**h, "If-Match": '"1"'})
    assert patch.status_code == 404
    assert client.post(f"/api/batches/{outside}/void", json={"reason": "r"}, headers=h).status_code == 404
    listed = client.get("/api/batches", headers=h).json["items"]
    assert [b["sample_no"] for b in listed] == ["IN-1"]
    assert client.get("/api/batches?region=330212", headers=h).json["items"] == []
    refused = client.post("/api/batches", json=batch_payload(region="330212"), headers=h)
    assert refused.status_code == 403 and "region" in refused.json["errors"]
    moved = client.patch(f"/api/batches/{inside}", json={"reason": "r", "region": "330212"},
                         headers={**h, "If-Match": '"1"'})
    assert moved.status_code == 403


def test_city_supervisor_reads_the_city_and_its_counties(client, make_user, two_batches):
    inside, outside = two_batches
    _, h = make_user("supervisor", region="330100")
    assert client.get(f"/api/batches/{inside}", headers=h).status_code == 200
    assert client.get(f"/api/batches/{outside}", headers=h).status_code == 404
    assert client.post("/api/batches", json=batch_payload(), headers=h).status_code == 403


def test_provincial_users_and_admins_see_everything(client, make_user, two_batches):
    inside, outside = two_batches
    for roles, region in ((("agency",), "330000"), (("admin",), "330106")):
        _, h = make_user(*roles, region=region)
        assert client.get(f"/api/batches/{outside}", headers=h).status_code == 200
        assert len(client.get("/api/batches", headers=h).json["items"]) == 2


def test_statistics_follow_the_scope(client, make_user, two_batches):
    _, h = make_user("inspector", region="330106")
    own = client.get("/api/stats/pass-rates?from=2025-03&to=2025-03", headers=h).json
    assert [(r["region"], r["batches"]) for r in own] == [("330106", 1)]
    assert client.get("/api/stats/pass-rates?from=2025-03&to=2025-03&region=330212", headers=h).json == []
    assert client.get("/api/stats/pass-rates?from=2025-03&to=2025-03&region=330000", headers=h).json == []


def test_import_rejects_rows_outside_the_scope(client, make_user, db_session):
    _, h = make_user("inspector", region="330106")
    content = ("sample_no,sampled_on,category,region,result\n"
               "SC-1,2025-04-01,food.dairy,330106,pass\n"
               "SC-2,2025-04-01,food.dairy,330212,pass\n").encode()
    r = client.post("/api/batches/import", headers=h, data={"file": (io.BytesIO(content), "s.csv")},
                    content_type="multipart/form-data")
    assert r.json["accepted"] == 1
    assert r.json["rejected"] == [{"row": 3, "column": "region",
                                   "reason": "region 330212 is outside your region 330106"}]


def test_admin_manages_users_and_tokens(client, admin, make_user, db_session):
    admin_user, h = admin
    created = client.post("/api/users", json={"username": "newbie", "password": "longenough1",
                                              "roles": ["inspector"], "region": "330106"}, headers=h)
    assert created.status_code == 201 and created.json["roles"] == ["inspector"]
    assert "password" not in created.json
    uid = created.json["id"]
    token = client.post(f"/api/users/{uid}/tokens", json={}, headers=h).json["token"]
    mine = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/me", headers=mine).json["username"] == "newbie"
    rerole = client.patch(f"/api/users/{uid}", json={"roles": ["supervisor"]}, headers=h)
    assert rerole.json["roles"] == ["supervisor"]
    assert client.post("/api/batches", json=batch_payload(), headers=mine).status_code == 403
    assert client.delete(f"/api/users/{uid}/tokens", headers=h).json == {"revoked": 1}
    assert client.get("/api/me", headers=mine).status_code == 401
    token = client.post(f"/api/users/{uid}/tokens", json={}, headers=h).json["token"]
    client.patch(f"/api/users/{uid}", json={"active": False}, headers=h)
    assert client.get("/api/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    selfish = client.patch(f"/api/users/{admin_user.id}", json={"active": False}, headers=h)
    assert selfish.status_code == 422
    dup = client.post("/api/users", json={"username": "newbie", "password": "longenough1",
                                          "roles": ["inspector"], "region": "330106"}, headers=h)
    assert dup.status_code == 409
    trail = client.get(f"/api/audit?entity=user&entity_id={uid}", headers=h).json
    assert [r["action"] for r in reversed(trail)] == ["create", "issue_token", "update", "revoke_tokens",
                                                      "issue_token", "update"]
    assert trail[-1]["user_id"] == admin_user.id and trail[-1]["address"] == "127.0.0.1"
    assert all(token not in str(r) for r in trail)


def test_users_change_their_own_password(client, make_user):
    user, h = make_user("inspector", region="330106")
    wrong = client.post("/api/me/password", json={"current_password": "nope", "new_password": "another-long-one"},
                        headers=h)
    assert wrong.status_code == 422 and "current_password" in wrong.json["errors"]
    ok = client.post("/api/me/password", json={"current_password": "correct horse battery",
                                               "new_password": "another-long-one"}, headers=h)
    assert ok.status_code == 204


@pytest.fixture
def regional_world(client, admin, db_session):
    """One batch and one alert inside a Xihu (330106) county user's subtree, one of each outside."""
    from warning.models import Alert, Scan

    _, h = admin
    ids = {}
    for tag, region in (("in", "330106"), ("out", "330212")):
        ids[f"batch_{tag}"] = client.post("/api/batches", json=batch_payload(region=region), headers=h).json["id"]
    scan = Scan(as_of="2025-03", status="done", model_version="t", settings={}, series_assessed=0,
                alerts_raised=2, alerts_escalated=0, alerts_resolved=0)
    db_session.add(scan)
    db_session.flush()
    for tag, region in (("in", "330106"), ("out", "330212")):
        alert = Alert(category_code="food.dairy.liquid_milk", region_code=region, level="yellow",
                      status="open", opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.99)
        db_session.add(alert)
        db_session.flush()
        ids[f"alert_{tag}"] = alert.id
    db_session.commit()
    return ids


# Every regional single-record route: (method, path template, record kind, permission, body).
REGIONAL_ROUTES = [
    ("GET", "/api/batches/{batch}", "batch", "read", None),
    ("GET", "/api/batches/{batch}/revisions", "batch", "read", None),
    ("POST", "/api/batches/{batch}/void", "batch", "record", {"reason": "matrix"}),
    ("GET", "/api/alerts/{alert}", "alert", "read", None),
    ("POST", "/api/alerts/{alert}/acknowledge", "alert", "triage", {}),
    ("GET", "/api/series/food.dairy.liquid_milk/{region}", "series", "read", None),
]


@pytest.mark.parametrize("role", ROLES)
def test_scope_matrix(client, make_user, regional_world, role):
    """Each role x each regional route x in-scope / out-of-scope record, for a county user."""
    _, h = make_user(role, region="330106")
    for method, template, kind, permission, body in REGIONAL_ROUTES:
        for tag, region in (("out", "330212"), ("in", "330106")):
            path = template.format(batch=regional_world[f"batch_{tag}"], alert=regional_world[f"alert_{tag}"],
                                   region=region)
            response = client.open(path, method=method, json=body, headers=h)
            if role not in GRANTS[permission]:
                expected = {403}
            elif tag == "out" and role != "admin":
                expected = {404}
            else:
                expected = {200}
            assert response.status_code in expected, (role, method, path, response.status_code, response.json)
    for path in ("/api/batches?region=330212&include_voided=true", "/api/alerts?region=330212"):
        listed = client.get(path, headers=h)
        body = listed.json
        items = body["items"] if isinstance(body, dict) else body
        assert (items == []) == (role != "admin"), (role, path)
