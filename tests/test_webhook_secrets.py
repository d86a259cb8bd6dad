"""Webhook secrets at rest: stored encrypted, recovered to sign, re-encrypted on key rotation, and
encrypted (and decrypted back) by migration 0007."""
from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from sqlalchemy import text

from core.extensions import db
from core.models import utcnow
from tests.migration_schema import migration_database
from tests.notify_servers import WebhookReceiver
from warning.models import AlertGroup
from warning.notify import services
from warning.notify.delivery import DeliverySettings, deliver_due
from warning.notify.models import OutboxMessage, Webhook
from warning.notify.sealing import SecretUnreadable, derived_key, unseal

SECRET = "the-shared-signing-secret-42"
KEY_A, KEY_B = Fernet.generate_key().decode(), Fernet.generate_key().decode()


def settings() -> DeliverySettings:
    return DeliverySettings(base_url="https://warning.example.test", mail_server="127.0.0.1", mail_port=1,
                            mail_from="warning@example.test", timeout=5)


def post_once(session, hook: Webhook) -> OutboxMessage:
    """Queue one notice to the webhook and run the delivery."""
    group = AlertGroup(scan_id=None, category_code="*", region_code="330000", level="red")
    session.add(group)
    session.flush()
    row = OutboxMessage(group_id=group.id, channel="webhook", target_id=hook.id, address=hook.url,
                        payload={"group_id": group.id, "scan_id": None, "as_of": "2024-06", "level": "red",
                                 "alerts": []})
    session.add(row)
    session.commit()
    deliver_due(session, settings(), now=utcnow())
    session.expire_all()
    return session.get(OutboxMessage, row.id)


def stored_row(session, hook_id: int) -> str:
    """Every column of the webhook's row as the database holds it, as one string."""
    return " ".join(map(str, session.execute(text("SELECT * FROM webhooks WHERE id = :id"), {"id": hook_id}).one()))


def test_the_secret_is_stored_encrypted_and_signing_still_verifies(db_session, admin):
    user, _ = admin
    with WebhookReceiver(SECRET) as receiver:
        hook = services.create_webhook(db_session, {"url": receiver.url, "secret": SECRET}, user.id)
        assert hook.secret == SECRET  # shown to the administrator once
        assert SECRET not in stored_row(db_session, hook.id)
        assert unseal(hook.secret_encrypted) == SECRET
        row = post_once(db_session, hook)
        services.update_webhook(db_session, hook.id, {"secret": "a-rotated-shared-secret-7"}, user.id)
        assert "a-rotated-shared-secret-7" not in stored_row(db_session, hook.id)
    assert row.status == "sent" and [r["verified"] for r in receiver.received] == [True]


def test_without_the_setting_the_key_is_derived_from_secret_key(app, db_session, admin, runner):
    user, _ = admin
    assert not app.config["WEBHOOK_SECRET_KEYS"]
    hook = services.create_webhook(db_session, {"url": "https://hooks.example.test/a", "secret": SECRET}, user.id)
    derived = derived_key(app.config["SECRET_KEY"])
    assert Fernet(derived).decrypt(hook.secret_encrypted.encode()).decode() == SECRET
    assert derived != derived_key("another-secret-key"), "the key depends on SECRET_KEY"
    assert runner.invoke(args=["warning", "webhook-key"]).output.strip() == derived
    fresh = runner.invoke(args=["warning", "webhook-key", "--new"]).output.strip()
    assert Fernet(fresh) and fresh != derived


def test_key_rotation(app, db_session, admin, runner, monkeypatch):
    user, _ = admin
    monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEYS", KEY_A)
    with WebhookReceiver(SECRET) as receiver:
        hook = services.create_webhook(db_session, {"url": receiver.url, "secret": SECRET}, user.id)
        sealed_with_a = hook.secret_encrypted

        monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEYS", KEY_B)  # the old key dropped too early
        refused = post_once(db_session, hook)
        assert refused.status == "pending" and "SecretUnreadable" in refused.last_error
        result = runner.invoke(args=["warning", "rotate-webhook-secrets"])
        assert result.exit_code == 1 and "no key in WEBHOOK_SECRET_KEYS decrypts" in result.output
        assert db_session.get(Webhook, hook.id).secret_encrypted == sealed_with_a, "nothing changed"

        monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEYS", f"{KEY_B}, {KEY_A}")  # new key first
        assert post_once(db_session, hook).status == "sent", "rows under the old key still sign"
        result = runner.invoke(args=["warning", "rotate-webhook-secrets"])
        assert result.exit_code == 0 and "1 webhook secrets re-encrypted" in result.output
        db_session.expire_all()
        rotated = db_session.get(Webhook, hook.id).secret_encrypted
        assert rotated != sealed_with_a and Fernet(KEY_B).decrypt(rotated.encode()).decode() == SECRET

        monkeypatch.setitem(app.config, "WEBHOOK_SECRET_KEYS", KEY_B)  # the old key retired
        assert post_once(db_session, hook).status == "sent"
        with pytest.raises(SecretUnreadable):
            unseal(rotated, {"WEBHOOK_SECRET_KEYS": KEY_A})
    assert [r["verified"] for r in receiver.received] == [True, True], "both deliveries signed with the secret"


def test_a_malformed_key_stops_the_app_from_starting():
    from factory import create_app

    with pytest.raises(RuntimeError, match="WEBHOOK_SECRET_KEYS: each key must be 32"):
        create_app("testing", {"DATABASE_URL": "sqlite://", "WEBHOOK_SECRET_KEYS": f"{KEY_A},not-a-fernet-key"})
    assert create_app("testing", {"DATABASE_URL": "sqlite://", "WEBHOOK_SECRET_KEYS": f"{KEY_A}, {KEY_B}"})


def test_migration_0007_encrypts_existing_secrets_and_its_downgrade_decrypts(database_url, tmp_path):
    from flask_migrate import downgrade, upgrade

    from factory import create_app

    with migration_database(database_url, tmp_path, "migration_0007") as url:
        app = create_app("testing", {"DATABASE_URL": url})
        with app.app_context():
            upgrade(revision="0005")
            conn = db.session
            conn.execute(text("INSERT INTO regions (code, parent_code, level, name_zh, name_en) "
                              "VALUES ('330000', NULL, 1, '浙江省', 'Zhejiang')"))
            conn.execute(text("INSERT INTO users (id, username, password_hash, region_code, active, created_at) "
                              "VALUES (1, 'admin', 'x', '330000', true, CURRENT_TIMESTAMP)"))
            for hook_id, secret in ((1, SECRET), (2, "another-old-plain-secret")):
                conn.execute(text("INSERT INTO webhooks (id, url, secret, region_code, category_code, min_level, "
                                  "active, created_by_id, created_at, updated_at) VALUES (:id, "
                                  "'https://h.example.test', :secret, '330000', '*', 'yellow', true, 1, "
                                  "CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)"), {"id": hook_id, "secret": secret})
            conn.commit()

            upgrade(revision="0007")
            sealed = dict(conn.execute(text("SELECT id, secret_encrypted FROM webhooks")).all())
            conn.commit()
            assert {k: unseal(v) for k, v in sealed.items()} == {1: SECRET, 2: "another-old-plain-secret"}
            assert SECRET not in " ".join(sealed.values())

            downgrade(revision="0005")
            plain = dict(conn.execute(text("SELECT id, secret FROM webhooks")).all())
            conn.commit()
            assert plain == {1: SECRET, 2: "another-old-plain-secret"}
            db.session.remove()
            db.engine.dispose()
