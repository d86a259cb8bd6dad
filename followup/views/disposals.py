"""Disposals of failed batches: lists by state (JSON or CSV), per-region summary, record, close."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.export import download
from core.extensions import db
from followup.schemas.disposals import (DisposalCloseSchema, DisposalListArgs, DisposalRecordSchema, DisposalSchema,
                              RegionArgs, RegionSummarySchema)
from followup.services import disposals as service
from followup.views import blp

BATCH = "<int(min=1, max=2147483647):batch_id>"
BATCH_DOC = [{"in": "path", "name": "batch_id", "example": 8}]
CSV_COLUMNS = ("batch_id", "sample_no", "product", "lot", "category", "region", "sampled_on", "reported_on",
               "deadline", "days_left", "state", "severity", "notified_on", "unit_notified_on", "measures",
               "cause", "outcome", "closed_on")


@blp.route("/disposals")
class Disposals(MethodView):
    @require("followup_read")
    @blp.arguments(DisposalListArgs, location="query")
    @blp.response(200, DisposalSchema(many=True))
    @blp.alt_response(200, schema={"type": "string"}, content_type="text/csv",
                      description="The same rows as a CSV download when format=csv")
    def get(self, args):
        """List failed batches by disposal state (open, due, overdue, closed), earliest deadline first."""
        rows = service.list_disposals(db.session, args["status"], args.get("region"), args.get("enterprise_id"),
                                      scope_of(g.user), args["limit"], args["offset"])
        if args["format"] == "csv":
            dumped = DisposalSchema(many=True).dump(rows)
            return download(CSV_COLUMNS, ([r.get(c) for c in CSV_COLUMNS] for r in dumped), "csv",
                            f"disposals-{args['status']}")
        return rows


@blp.route("/disposals/summary")
class DisposalSummary(MethodView):
    @require("followup_read")
    @blp.arguments(RegionArgs, location="query")
    @blp.response(200, RegionSummarySchema(many=True))
    def get(self, args):
        """Count open, due and overdue disposals per direct sub-region."""
        return service.summary_by_region(db.session, args.get("region"), scope_of(g.user))


@blp.route(f"/disposals/{BATCH}", parameters=BATCH_DOC)
class Disposal(MethodView):
    @require("followup_read")
    @blp.response(200, DisposalSchema)
    def get(self, batch_id: int):
        """Show a failed batch's disposal and its deadline."""
        return service.get_disposal(db.session, batch_id, scope_of(g.user))

    @require("followup_write")
    @blp.arguments(DisposalRecordSchema, required=False)
    @blp.response(200, DisposalSchema)
    def post(self, data, batch_id: int):
        """Record steps of a failed batch's disposal (who was told when, measures, cause, severity)."""
        return service.record_disposal(db.session, batch_id, data, g.user.id, scope_of(g.user))


@blp.route(f"/disposals/{BATCH}/close", parameters=BATCH_DOC)
class DisposalClose(MethodView):
    @require("followup_write")
    @blp.arguments(DisposalCloseSchema, required=False)
    @blp.response(200, DisposalSchema)
    def post(self, data, batch_id: int):
        """Close a disposal; the notification date, the cause and the outcome are required."""
        return service.close_disposal(db.session, batch_id, data, g.user.id, scope_of(g.user))
