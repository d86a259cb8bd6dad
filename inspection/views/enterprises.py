"""Enterprises API: register, list, show."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require
from core.extensions import Blueprint, db
from inspection.schemas import EnterpriseCreateSchema, EnterpriseListArgs, EnterpriseSchema
from inspection.services import enterprises as service

blp = Blueprint("enterprises", __name__, url_prefix="/api/enterprises", description="Producers")


@blp.route("")
class Enterprises(MethodView):
    @require("read")
    @blp.arguments(EnterpriseListArgs, location="query")
    @blp.response(200, EnterpriseSchema(many=True))
    def get(self, args):
        """List enterprises, optionally searching by name or credit code."""
        return service.list_enterprises(db.session, args.get("q"), args["limit"], args["offset"])

    @require("record")
    @blp.arguments(EnterpriseCreateSchema)
    @blp.response(201, EnterpriseSchema)
    def post(self, data):
        """Register an enterprise; the credit code's GB 32100 check digit is verified."""
        return service.create_enterprise(db.session, data, g.user.id)


@blp.route("/<int(min=1, max=2147483647):enterprise_id>")
class Enterprise(MethodView):
    @require("read")
    @blp.response(200, EnterpriseSchema)
    def get(self, enterprise_id: int):
        """Show one enterprise."""
        return service.get_enterprise(db.session, enterprise_id)
