"""Retests and objections against failed batches."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.extensions import db
from followup.schemas.disposals import (AppealListArgs, ObjectionDecideSchema, ObjectionRaiseSchema, ObjectionSchema,
                              RetestApplySchema, RetestConcludeSchema, RetestSchema)
from followup.services import appeals as service
from followup.views import blp
from followup.views.disposals import BATCH, BATCH_DOC

RETEST_DOC = [{"in": "path", "name": "retest_id", "example": 1}]
OBJECTION_DOC = [{"in": "path", "name": "objection_id", "example": 1}]


@blp.route("/retests")
class Retests(MethodView):
    @require("followup_read")
    @blp.arguments(AppealListArgs, location="query")
    @blp.response(200, RetestSchema(many=True))
    def get(self, args):
        """List retests, newest first."""
        return service.list_retests(db.session, scope_of(g.user), args.get("batch_id"), args.get("status"),
                                    args["limit"], args["offset"])


@blp.route(f"/disposals/{BATCH}/retest", parameters=BATCH_DOC)
class RetestApply(MethodView):
    @require("followup_write")
    @blp.arguments(RetestApplySchema)
    @blp.response(201, RetestSchema)
    def post(self, data, batch_id: int):
        """Record a producer's retest application (within the working-day window; another laboratory)."""
        return service.apply_for_retest(db.session, batch_id, data, g.user.id, scope_of(g.user))


@blp.route("/retests/<int(min=1, max=2147483647):retest_id>", parameters=RETEST_DOC)
class Retest(MethodView):
    @require("followup_read")
    @blp.response(200, RetestSchema)
    def get(self, retest_id: int):
        """Show one retest."""
        return service.get_retest(db.session, retest_id, scope_of(g.user))


@blp.route("/retests/<int(min=1, max=2147483647):retest_id>/conclude", parameters=RETEST_DOC)
class RetestConclude(MethodView):
    @require("followup_write")
    @blp.arguments(RetestConcludeSchema)
    @blp.response(200, RetestSchema)
    def post(self, data, retest_id: int):
        """Record a retest's final conclusion; a pass amends the batch (revision kept, statistics follow)."""
        return service.conclude_retest(db.session, retest_id, data, g.user.id, scope_of(g.user))


@blp.route("/objections")
class Objections(MethodView):
    @require("followup_read")
    @blp.arguments(AppealListArgs, location="query")
    @blp.response(200, ObjectionSchema(many=True))
    def get(self, args):
        """List objections, newest first."""
        return service.list_objections(db.session, scope_of(g.user), args.get("batch_id"), args.get("status"),
                                       args["limit"], args["offset"])


@blp.route(f"/disposals/{BATCH}/objections", parameters=BATCH_DOC)
class ObjectionRaise(MethodView):
    @require("followup_write")
    @blp.arguments(ObjectionRaiseSchema)
    @blp.response(201, ObjectionSchema)
    def post(self, data, batch_id: int):
        """Record an objection about the sampling or the test method."""
        return service.raise_objection(db.session, batch_id, data, g.user.id, scope_of(g.user))


@blp.route("/objections/<int(min=1, max=2147483647):objection_id>/decide", parameters=OBJECTION_DOC)
class ObjectionDecide(MethodView):
    @require("followup_write")
    @blp.arguments(ObjectionDecideSchema)
    @blp.response(200, ObjectionSchema)
    def post(self, data, objection_id: int):
        """Uphold or reject an objection, with the decision."""
        return service.decide_objection(db.session, objection_id, data, g.user.id, scope_of(g.user))
