"""Quality credit of an enterprise, and the blacklist (list, add, remove)."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.extensions import db
from followup.schemas.credit import (BlacklistAddSchema, BlacklistArgs, BlacklistEntrySchema, BlacklistRemoveSchema,
                              BlacklistRowSchema, CreditSchema)
from followup.services import blacklist as service
from followup.services.credit import credit_record
from followup.views import blp

ENTERPRISE = "<int(min=1, max=2147483647):enterprise_id>"


@blp.route(f"/enterprises/{ENTERPRISE}/credit", parameters=[{"in": "path", "name": "enterprise_id", "example": 1}])
class Credit(MethodView):
    @require("followup_read")
    @blp.response(200, CreditSchema)
    def get(self, enterprise_id: int):
        """Show an enterprise's quality-credit record: failures, retests, cases, overdue disposals, score, grade."""
        scope = scope_of(g.user)
        return credit_record(db.session, service.get_enterprise(db.session, enterprise_id, scope), scope)


@blp.route("/blacklist")
class Blacklist(MethodView):
    @require("followup_read")
    @blp.arguments(BlacklistArgs, location="query")
    @blp.response(200, BlacklistRowSchema(many=True))
    def get(self, args):
        """List blacklisted enterprises with the entry that put them there (history=true: every change)."""
        return service.list_blacklist(db.session, scope_of(g.user), args.get("region"), args["history"],
                                      args["limit"], args["offset"])

    @require("followup_write")
    @blp.arguments(BlacklistAddSchema)
    @blp.response(201, BlacklistEntrySchema)
    def post(self, data):
        """Blacklist an enterprise; a reason is required."""
        return service.add(db.session, data["enterprise_id"], data["reason"], g.user.id, scope_of(g.user))


@blp.route(f"/blacklist/{ENTERPRISE}/remove", parameters=[{"in": "path", "name": "enterprise_id", "example": 2}])
class BlacklistRemove(MethodView):
    @require("followup_write")
    @blp.arguments(BlacklistRemoveSchema)
    @blp.response(200, BlacklistEntrySchema)
    def post(self, data, enterprise_id: int):
        """Take an enterprise off the blacklist; a reason is required."""
        return service.remove(db.session, enterprise_id, data["reason"], g.user.id, scope_of(g.user))
