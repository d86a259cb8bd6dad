"""Cases: list (JSON or CSV), open, show, update, actions, workflow transitions."""
from __future__ import annotations

from flask import g, url_for
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.export import download
from core.extensions import db
from followup.schemas.cases import (CaseActionSchema, CaseDetailSchema, CaseListArgs, CaseOpenSchema, CaseSchema,
                              CaseTransitionSchema, CaseUpdateSchema)
from followup.services import cases as service
from followup.views import blp

CASE = "<int(min=1, max=2147483647):case_id>"
CASE_DOC = [{"in": "path", "name": "case_id", "example": 1}]
CSV_COLUMNS = ("id", "kind", "title", "status", "source", "region", "enterprise_id", "enterprise_blacklisted",
               "alert_id", "batch_ids", "product_type", "level", "quantity_concerned", "quantity_recovered",
               "unit", "distribution", "recovered_disposal", "opened_at", "start_due_at", "started_at",
               "start_overdue", "complete_due_on", "complete_overdue", "closed_at", "outcome", "cancel_reason")


def _cell(value):
    return " ".join(str(v) for v in value) if isinstance(value, list) else value


@blp.route("/cases")
class Cases(MethodView):
    @require("followup_read")
    @blp.arguments(CaseListArgs, location="query")
    @blp.response(200, CaseSchema(many=True))
    @blp.alt_response(200, schema={"type": "string"}, content_type="text/csv",
                      description="The same rows as a CSV download when format=csv")
    def get(self, args):
        """List recall and traceability cases, newest first; filter by kind, status, region, overdue."""
        limit, offset, fmt = args.pop("limit"), args.pop("offset"), args.pop("format")
        rows = service.list_cases(db.session, service.CaseFilter(**args), scope_of(g.user), limit, offset)
        if fmt == "csv":
            dumped = CaseSchema(many=True).dump(rows)
            return download(CSV_COLUMNS, ([_cell(r.get(c)) for c in CSV_COLUMNS] for r in dumped), "csv", "cases")
        return rows

    @require("followup_write")
    @blp.arguments(CaseOpenSchema)
    @blp.response(201, CaseDetailSchema)
    def post(self, data):
        """Open a case from failed batches, an alert, or on its own (an enterprise); recalls need a level."""
        case = service.open_case(db.session, data, g.user.id, scope_of(g.user))
        return case, 201, {"Location": url_for("followup.Case", case_id=case.id)}


@blp.route(f"/cases/{CASE}", parameters=CASE_DOC)
class Case(MethodView):
    @require("followup_read")
    @blp.response(200, CaseDetailSchema)
    def get(self, case_id: int):
        """Show a case with its deadlines, overdue flags and every event."""
        return service.get_case(db.session, case_id, scope_of(g.user))

    @require("followup_write")
    @blp.arguments(CaseUpdateSchema, required=False)
    @blp.response(200, CaseDetailSchema)
    def patch(self, data, case_id: int):
        """Change a case's level, quantities, distribution or disposal of recovered goods; link batches."""
        return service.update_case(db.session, case_id, data, g.user.id, scope_of(g.user))


@blp.route(f"/cases/{CASE}/actions", parameters=CASE_DOC)
class CaseActions(MethodView):
    @require("followup_write")
    @blp.arguments(CaseActionSchema)
    @blp.response(200, CaseDetailSchema)
    def post(self, data, case_id: int):
        """Record an action taken on a case (who, when, what)."""
        return service.record_action(db.session, case_id, data, g.user.id, scope_of(g.user))


@blp.route(f"/cases/{CASE}/transition", parameters=CASE_DOC)
class CaseTransition(MethodView):
    @require("followup_write")
    @blp.arguments(CaseTransitionSchema)
    @blp.response(200, CaseDetailSchema)
    def post(self, data, case_id: int):
        """Move a case along open -> investigating -> action_taken -> closed, or cancel it with a reason."""
        return service.transition(db.session, case_id, data, g.user.id, scope_of(g.user))
