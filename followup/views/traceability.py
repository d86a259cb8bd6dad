"""GET /api/traceability/<batch_id>: a failed batch's producer, product and lot across regions."""
from __future__ import annotations

from flask import g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.extensions import db
from followup.schemas.cases import TraceSchema
from followup.services.traceability import trace_batch
from followup.views import blp
from followup.views.disposals import BATCH, BATCH_DOC


@blp.route(f"/traceability/{BATCH}", parameters=BATCH_DOC)
class Traceability(MethodView):
    @require("followup_read")
    @blp.response(200, TraceSchema)
    def get(self, batch_id: int):
        """Trace a failed batch: the producer's other batches, the same lot, failures, cases, timeline."""
        return trace_batch(db.session, batch_id, scope_of(g.user))
