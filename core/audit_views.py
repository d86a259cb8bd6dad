"""GET /api/audit: administrators query the audit trail by entity, user and time (JSON or CSV)."""
from __future__ import annotations

import json
from datetime import datetime, timezone

from flask.views import MethodView
from marshmallow import Schema, ValidationError, fields, validate, validates_schema

from core.audit import list_audit
from core.auth.permissions import require
from core.clock import LOCAL_TZ
from core.export import download
from core.extensions import Blueprint, db

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit trail")
COLUMNS = ("id", "at", "user_id", "address", "action", "entity", "entity_id", "before", "after")


def _utc_representable(value: datetime) -> None:
    try:
        value.astimezone(timezone.utc)
    except OverflowError:  # e.g. 0001-01-01T00:00:00+01:00
        raise ValidationError("timestamp out of range") from None


# Stored timestamps are UTC and aware; a timestamp without an offset is local time.
Timestamp = lambda description, **kw: fields.AwareDateTime(  # noqa: E731
    default_timezone=LOCAL_TZ, validate=_utc_representable,
    metadata={"description": f"{description}; ISO 8601, local time (Asia/Shanghai) unless an offset is given",
              **kw})


class AuditArgs(Schema):
    entity = fields.String(validate=validate.Length(max=32), metadata={"description": "e.g. batch, user",
                                                                       "example": "batch"})
    entity_id = fields.String(validate=validate.Length(max=64), metadata={"example": "1"})
    user_id = fields.Integer(validate=validate.Range(1, 2_147_483_647), metadata={"example": 1})
    since = Timestamp("From this time, inclusive", example="2025-01-01T00:00:00+08:00")
    until = Timestamp("Before this time", example="2099-01-01T00:00:00+08:00")
    before_id = fields.Integer(validate=validate.Range(1, 2_147_483_647),
                               metadata={"description": "Page: records older than this id", "example": 1000})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000), metadata={"example": 100})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")), metadata={"example": "json"})

    @validates_schema
    def _ordered(self, data, **kwargs):
        if data.get("since") and data.get("until") and data["since"] >= data["until"]:
            raise ValidationError("'since' is not before 'until'", field_name="since")


class AuditSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    user_id = fields.Integer(allow_none=True)
    address = fields.String(allow_none=True)
    action = fields.String()
    entity = fields.String()
    entity_id = fields.String()
    before = fields.Raw(allow_none=True)
    after = fields.Raw(allow_none=True)


@blp.route("")
class Audit(MethodView):
    @require("administer")
    @blp.arguments(AuditArgs, location="query")
    @blp.response(200, AuditSchema(many=True))
    @blp.alt_response(200, schema={"type": "string"}, content_type="text/csv",
                      description="Audit records, newest first; a CSV download when format=csv")
    def get(self, args):
        """List audit records, newest first."""
        fmt = args.pop("format")
        rows = list_audit(db.session, **args)
        if fmt == "csv":
            dumped = AuditSchema(many=True).dump(rows)
            as_text = lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v  # noqa: E731
            return download(COLUMNS, ([as_text(r[c]) for c in COLUMNS] for r in dumped), "csv", "audit")
        return rows
