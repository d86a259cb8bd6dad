"""marshmallow schemas of the subscription, webhook and outbox API."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import JsonBoolean
from warning.models import ALERT_LEVELS
from warning.notify.models import CHANNELS, OUTBOX_STATUSES
from warning.schemas import PageArgs


def _region(**kw):
    return fields.String(attribute="region_code", validate=validate.Length(equal=6), **kw,
                         metadata={"description": "Region subtree (default: your region)", "example": "330100"})


def _category(**kw):
    return fields.String(attribute="category_code", validate=validate.Length(min=1, max=96), **kw,
                         metadata={"description": "Category subtree; * for all products", "example": "food.dairy"})


def _min_level(**kw):
    return fields.String(validate=validate.OneOf(ALERT_LEVELS), **kw,
                         metadata={"description": "The lowest level notified", "example": "yellow"})


class FilterFields(Schema):
    region = _region()
    category = _category()
    min_level = _min_level()


class SubscriptionCreateSchema(FilterFields):
    email = fields.Email(required=True, validate=validate.Length(max=254),
                         metadata={"example": "supervisor@hz.example.gov.cn"})


class SubscriptionUpdateSchema(FilterFields):
    email = fields.Email(validate=validate.Length(max=254), metadata={"example": "supervisor@hz.example.gov.cn"})
    active = JsonBoolean(metadata={"description": "false stops the notices", "example": True})


class FilterOutFields(Schema):
    id = fields.Integer()
    region = fields.String(attribute="region_code")
    category = fields.String(attribute="category_code")
    min_level = fields.String()
    active = fields.Boolean()
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class SubscriptionSchema(FilterOutFields):
    user_id = fields.Integer()
    email = fields.String()


_URL = validate.Length(max=2000)
_SCHEMES = {"http", "https"}


class WebhookCreateSchema(FilterFields):
    url = fields.Url(required=True, schemes=_SCHEMES, require_tld=False, validate=_URL,
                     metadata={"example": "https://hooks.example.gov.cn/warning"})
    secret = fields.String(load_only=True, validate=validate.Length(min=16, max=200),
                           metadata={"description": "Signing secret (generated when absent; shown once)",
                                     "example": "s3cret-signing-key-0123456789"})


class WebhookUpdateSchema(FilterFields):
    url = fields.Url(schemes=_SCHEMES, require_tld=False, validate=_URL,
                     metadata={"example": "https://hooks.example.gov.cn/warning"})
    secret = fields.String(load_only=True, validate=validate.Length(min=16, max=200),
                           metadata={"description": "A new signing secret", "example": "rotated-signing-key-0123456789"})
    active = JsonBoolean(metadata={"description": "false stops the notices", "example": True})


class WebhookSchema(FilterOutFields):
    url = fields.String()
    created_by_id = fields.Integer()


class WebhookCreatedSchema(WebhookSchema):
    secret = fields.String(metadata={"description": "The signing secret; it is never shown again"})


class OutboxListArgs(PageArgs):
    status = fields.String(validate=validate.OneOf(OUTBOX_STATUSES), metadata={
        "description": "pending: waiting for its (next) attempt; sending: being delivered now; sent; failed: "
                       "given up after NOTIFY_MAX_ATTEMPTS", "example": "pending"})


class OutboxSchema(Schema):
    id = fields.Integer()
    group_id = fields.Integer()
    channel = fields.String(validate=validate.OneOf(CHANNELS))
    address = fields.String()
    status = fields.String(validate=validate.OneOf(OUTBOX_STATUSES))
    attempts = fields.Integer()
    next_attempt_at = fields.DateTime()
    sent_at = fields.DateTime(allow_none=True)
    last_error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    alerts = fields.Function(lambda row: [item["id"] for item in row.payload.get("alerts", [])],
                             metadata={"description": "Ids of the alerts the notice tells about"})
