"""GET /api/audit: administrators query the audit trail by entity, user and time (JSON or CSV)."""
from __future__ import annotations

import json

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate
from sqlalchemy import select

from core.audit import AuditRecord
from core.auth.permissions import require
from core.export import download
from core.extensions import db

blp = Blueprint("audit", __name__, url_prefix="/api/audit", description="Audit trail")
COLUMNS = ("id", "at", "user_id", "address", "action", "entity", "entity_id", "before", "after")


class AuditArgs(Schema):
    entity = fields.String(validate=validate.Length(max=32), metadata={"description": "e.g. batch, user"})
    entity_id = fields.String(validate=validate.Length(max=64))
    user_id = fields.Integer(validate=validate.Range(1, 2_147_483_647))
    since = fields.DateTime(metadata={"description": "ISO 8601 timestamp, inclusive"})
    until = fields.DateTime(metadata={"description": "ISO 8601 timestamp, exclusive"})
    before_id = fields.Integer(validate=validate.Range(1, 2_147_483_647),
                               metadata={"description": "Page: records older than this id"})
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 1000))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")))


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
    def get(self, args):
        """List audit records, newest first."""
        stmt = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(args["limit"])
        for key in ("entity", "entity_id", "user_id"):
            if key in args:
                stmt = stmt.where(getattr(AuditRecord, key) == args[key])
        if "since" in args:
            stmt = stmt.where(AuditRecord.at >= args["since"])
        if "until" in args:
            stmt = stmt.where(AuditRecord.at < args["until"])
        if "before_id" in args:
            stmt = stmt.where(AuditRecord.id < args["before_id"])
        rows = db.session.scalars(stmt).all()
        if args["format"] == "csv":
            dumped = AuditSchema(many=True).dump(rows)
            as_text = lambda v: json.dumps(v, ensure_ascii=False) if isinstance(v, (dict, list)) else v  # noqa: E731
            return download(COLUMNS, ([as_text(r[c]) for c in COLUMNS] for r in dumped), "csv", "audit")
        return rows
