"""GET /api/sampling-plan: where to sample next, ranked, with reasons."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.extensions import db
from followup.schemas.credit import PlanArgs, PlanSchema
from followup.services.sampling_plan import sampling_plan
from followup.views import blp


@blp.route("/sampling-plan")
class SamplingPlan(MethodView):
    @require("followup_read")
    @blp.arguments(PlanArgs, location="query")
    @blp.response(200, PlanSchema)
    def get(self, args):
        """Rank where to sample in a month by warning assessments, thin series and enterprise credit."""
        return sampling_plan(db.session, args.get("month"), args.get("region"), scope_of(g.user),
                             args["limit"], args["offset"])
