"""Subscriptions (a supervisor's own), webhooks (administrators') and the outbox listing.

Every change is audited in its transaction; nothing is deleted: deactivating stops the notices.
"""
from __future__ import annotations

import secrets

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import audit
from core.auth.permissions import OUTSIDE_REGION, Forbidden
from core.errors import NotFound, ValidationFailed
from core.messages import N_
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import load_trees
from inspection.services.rules import UNKNOWN_CATEGORY, known_region
from warning.notify import sealing
from warning.notify.models import OutboxMessage, Subscription, Webhook

FILTER_FIELDS = ("region_code", "category_code", "min_level")
SUBSCRIPTION_FIELDS = ("email", *FILTER_FIELDS, "active")
WEBHOOK_FIELDS = ("url", *FILTER_FIELDS, "active")  # never the secret
NOTHING_TO_CHANGE = N_("nothing to change: send at least one field")
EMPTY_BODY = N_("empty body")
NO_SUBSCRIPTION = N_("no subscription %(id)s")
NO_WEBHOOK = N_("no webhook %(id)s")


def _snapshot(record, fields) -> dict:
    return {f: getattr(record, f) for f in fields}


def _change(session: Session, record, changes: dict, user_id: int, action: str, entity: str, fields):
    """Apply the changes and audit them (a new secret only as changed), in one transaction."""
    before = _snapshot(record, fields)
    for key, value in changes.items():
        setattr(record, key, value)
    after = {**_snapshot(record, fields), **({"secret": "(changed)"} if "secret_encrypted" in changes else {})}
    audit(session, user_id, action, entity, record.id, before, after)
    session.commit()
    return record


def _check_filters(session: Session, data: dict, scope: str | None) -> None:
    if not data:
        raise ValidationFailed(NOTHING_TO_CHANGE, {"_schema": [EMPTY_BODY]})
    trees = load_trees(session)
    region, category = data.get("region_code"), data.get("category_code")
    if region is not None:
        known_region(trees, region)
        if scope is not None and region not in trees.regions.subtree(scope):
            raise Forbidden(OUTSIDE_REGION(region=region, scope=scope))
    if category is not None and category != ALL_PRODUCTS and category not in trees.categories:
        raise ValidationFailed.on("category", UNKNOWN_CATEGORY(code=category))


# Subscriptions: the owner manages their own; an administrator (scope None) sees and edits all.

def list_subscriptions(session: Session, user_id: int, is_admin: bool, limit: int, offset: int) -> list[Subscription]:
    stmt = select(Subscription)
    if not is_admin:
        stmt = stmt.where(Subscription.user_id == user_id)
    return list(session.scalars(stmt.order_by(Subscription.id).limit(limit).offset(offset)))


def get_subscription(session: Session, sub_id: int, user_id: int, is_admin: bool) -> Subscription:
    sub = session.get(Subscription, sub_id)
    if sub is None or not (is_admin or sub.user_id == user_id):
        raise NotFound(NO_SUBSCRIPTION(id=sub_id))
    return sub


def create_subscription(session: Session, data: dict, user_id: int, scope: str | None) -> Subscription:
    """Subscribe the caller to alerts in a region subtree (within their own) and category subtree."""
    data = {"region_code": scope or "330000", "category_code": ALL_PRODUCTS, "min_level": "yellow", **data}
    _check_filters(session, data, scope)
    sub = Subscription(user_id=user_id, active=True, **data)
    session.add(sub)
    session.flush()
    audit(session, user_id, "create", "subscription", sub.id, None, _snapshot(sub, SUBSCRIPTION_FIELDS))
    session.commit()
    return sub


def update_subscription(session: Session, sub_id: int, changes: dict, user_id: int, is_admin: bool,
                        scope: str | None, action: str = "update") -> Subscription:
    """Change a subscription's address, filters or active flag (deactivating is the delete)."""
    sub = get_subscription(session, sub_id, user_id, is_admin)
    _check_filters(session, changes, scope)
    return _change(session, sub, changes, user_id, action, "subscription", SUBSCRIPTION_FIELDS)


# Webhooks: administrators only (the views require `administer`).

def list_webhooks(session: Session, limit: int, offset: int) -> list[Webhook]:
    return list(session.scalars(select(Webhook).order_by(Webhook.id).limit(limit).offset(offset)))


def get_webhook(session: Session, hook_id: int) -> Webhook:
    hook = session.get(Webhook, hook_id)
    if hook is None:
        raise NotFound(NO_WEBHOOK(id=hook_id))
    return hook


def create_webhook(session: Session, data: dict, user_id: int) -> Webhook:
    """Register a webhook; the secret (given, or generated) is returned by this call only, on the
    instance's unmapped `secret` attribute: the database keeps it encrypted (sealing.py)."""
    data = {"region_code": "330000", "category_code": ALL_PRODUCTS, "min_level": "yellow", **data}
    secret = data.pop("secret", None) or secrets.token_urlsafe(32)
    _check_filters(session, data, None)
    hook = Webhook(created_by_id=user_id, active=True, secret_encrypted=sealing.seal(secret), **data)
    session.add(hook)
    session.flush()
    audit(session, user_id, "create", "webhook", hook.id, None, _snapshot(hook, WEBHOOK_FIELDS))
    session.commit()
    hook.secret = secret
    return hook


def update_webhook(session: Session, hook_id: int, changes: dict, user_id: int, action: str = "update") -> Webhook:
    """Change a webhook's URL, filters, active flag or secret (the audit records only that it changed)."""
    hook = get_webhook(session, hook_id)
    _check_filters(session, changes, None)
    if "secret" in changes:
        changes = {**changes, "secret_encrypted": sealing.seal(changes["secret"])}
        del changes["secret"]
    return _change(session, hook, changes, user_id, action, "webhook", WEBHOOK_FIELDS)


def rotate_webhook_secrets(session: Session) -> int:
    """Re-encrypt every webhook's secret with the first key of WEBHOOK_SECRET_KEYS, in one
    transaction (a secret no key decrypts stops it, and nothing is changed). Audited without a
    user: it is an operator's command."""
    hooks = list(session.scalars(select(Webhook).order_by(Webhook.id)))
    for hook in hooks:
        hook.secret_encrypted = sealing.reseal(hook.secret_encrypted)
        audit(session, None, "rotate_key", "webhook", hook.id, None, {"secret": "(re-encrypted)"})
    session.commit()
    return len(hooks)


def list_outbox(session: Session, status: str | None, limit: int, offset: int) -> list[OutboxMessage]:
    stmt = select(OutboxMessage)
    if status:
        stmt = stmt.where(OutboxMessage.status == status)
    return list(session.scalars(stmt.order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)))
