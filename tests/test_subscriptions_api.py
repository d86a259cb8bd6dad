"""Subscriptions (a supervisor's own), webhooks (administrators') and the outbox over the API."""
from __future__ import annotations

from sqlalchemy import select

from core.audit import AuditRecord
from warning.notify.models import Subscription, Webhook
from warning.notify.sealing import unseal

BODY = {"email": "zhang@nb.example.test", "region": "330200", "category": "food.dairy", "min_level": "orange"}


def test_a_supervisor_manages_their_own_subscriptions(client, db_session, make_user):
    user, ningbo = make_user("supervisor", region="330200")
    _, other = make_user("supervisor", region="330200")
    _, inspector = make_user("inspector", region="330200")

    created = client.post("/api/subscriptions", json=BODY, headers=ningbo)
    assert created.status_code == 201, created.json
    sub = created.json
    assert (sub["user_id"], sub["region"], sub["category"], sub["min_level"], sub["active"]) == (
        user.id, "330200", "food.dairy", "orange", True)
    assert client.post("/api/subscriptions", json=BODY, headers=inspector).status_code == 403
    assert client.get(f"/api/subscriptions/{sub['id']}", headers=other).status_code == 404
    assert client.get("/api/subscriptions", headers=other).json == []
    assert [s["id"] for s in client.get("/api/subscriptions", headers=ningbo).json] == [sub["id"]]

    changed = client.patch(f"/api/subscriptions/{sub['id']}", json={"min_level": "red", "region": "330212"},
                           headers=ningbo)
    assert changed.status_code == 200 and (changed.json["min_level"], changed.json["region"]) == ("red", "330212")
    assert client.patch(f"/api/subscriptions/{sub['id']}", json={"min_level": "red"}, headers=other).status_code == 404
    gone = client.delete(f"/api/subscriptions/{sub['id']}", headers=ningbo)
    assert gone.status_code == 200 and gone.json["active"] is False
    assert db_session.get(Subscription, sub["id"]) is not None, "deactivated, never deleted"
    records = db_session.scalars(select(AuditRecord).where(AuditRecord.entity == "subscription")
                                 .order_by(AuditRecord.id)).all()
    assert [(r.action, r.user_id) for r in records] == [("create", user.id), ("update", user.id),
                                                       ("deactivate", user.id)]
    assert records[1].before["min_level"] == "orange" and records[1].after["min_level"] == "red"
    assert records[2].after["active"] is False


def test_subscription_input_is_checked(client, make_user):
    _, ningbo = make_user("supervisor", region="330200")
    _, admin = make_user("admin")
    cases = [({**BODY, "region": "330100"}, 403),  # Hangzhou: outside the supervisor's city
             ({**BODY, "region": "999999"}, 422), ({**BODY, "category": "no.such"}, 422),
             ({**BODY, "min_level": "blue"}, 422), ({**BODY, "email": "not-an-address"}, 422),
             ({k: v for k, v in BODY.items() if k != "email"}, 422)]
    for body, status in cases:
        response = client.post("/api/subscriptions", json=body, headers=ningbo)
        assert response.status_code == status, (body, response.json)
    defaults = client.post("/api/subscriptions", json={"email": "z@nb.example.test"}, headers=ningbo).json
    for body in ({"active": "yes"}, {"active": 0}, {}):
        assert client.patch(f"/api/subscriptions/{defaults['id']}", json=body, headers=ningbo).status_code == 422
    assert (defaults["region"], defaults["category"], defaults["min_level"]) == ("330200", "*", "yellow")
    assert client.get("/api/subscriptions", headers=admin).json[0]["id"] == defaults["id"], "admins see all"


def test_webhooks_are_for_administrators_and_never_show_the_secret_again(client, db_session, make_user):
    admin_user, admin = make_user("admin")
    _, supervisor = make_user("supervisor", region="330200")
    body = {"url": "https://hooks.example.test/warning", "region": "330200", "min_level": "orange"}
    assert client.post("/api/webhooks", json=body, headers=supervisor).status_code == 403
    assert client.get("/api/webhooks", headers=supervisor).status_code == 403

    created = client.post("/api/webhooks", json=body, headers=admin)
    assert created.status_code == 201 and len(created.json["secret"]) >= 32
    hook_id, secret = created.json["id"], created.json["secret"]
    assert "secret" not in client.get(f"/api/webhooks/{hook_id}", headers=admin).json
    assert all("secret" not in h for h in client.get("/api/webhooks", headers=admin).json)
    stored = db_session.get(Webhook, hook_id).secret_encrypted
    assert secret not in stored and unseal(stored) == secret, "kept encrypted, recoverable with the key"

    rotated = client.patch(f"/api/webhooks/{hook_id}", json={"secret": "a-new-secret-0123456789"}, headers=admin)
    assert rotated.status_code == 200 and "secret" not in rotated.json
    assert client.post("/api/webhooks", json={**body, "url": "ftp://x.example.test/"}, headers=admin).status_code == 422
    assert client.post("/api/webhooks", json={**body, "secret": "short"}, headers=admin).status_code == 422
    off = client.delete(f"/api/webhooks/{hook_id}", headers=admin)
    assert off.status_code == 200 and off.json["active"] is False
    records = db_session.scalars(select(AuditRecord).where(AuditRecord.entity == "webhook")).all()
    assert [r.action for r in records] == ["create", "update", "deactivate"]
    assert all(secret not in str(r.after) for r in records) and records[1].after["secret"] == "(changed)"
    assert client.get("/api/webhooks/999", headers=admin).status_code == 404
    assert admin_user.id == db_session.get(Webhook, hook_id).created_by_id


def test_the_outbox_is_listed_for_administrators(client, make_user):
    _, admin = make_user("admin")
    _, supervisor = make_user("supervisor")
    assert client.get("/api/notifications", headers=supervisor).status_code == 403
    listed = client.get("/api/notifications", query_string={"status": "pending"}, headers=admin)
    assert listed.status_code == 200 and listed.json == []
    assert client.get("/api/notifications", query_string={"status": "lost"}, headers=admin).status_code == 422
