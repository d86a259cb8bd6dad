"""GET /api/jobs/<id>: progress and, once done, the result of a queued job."""
from __future__ import annotations

from flask import g
from flask.views import MethodView
from marshmallow import Schema, fields

from core.extensions import Blueprint, db
from core.jobs import job_for

blp = Blueprint("jobs", __name__, url_prefix="/api/jobs", description="Queued background jobs")


class JobSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    status = fields.String(metadata={"description": "queued, running, done or failed"})
    progress = fields.Integer(metadata={"description": "Rows (or units) done so far"})
    total = fields.Integer(allow_none=True)
    result = fields.Dict(allow_none=True)
    error = fields.String(allow_none=True)
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)


@blp.route("/<int(min=1, max=2147483647):job_id>")
class JobResource(MethodView):
    @blp.response(200, JobSchema)
    def get(self, job_id: int):
        """Show a job's status, progress and result."""
        return job_for(db.session, job_id, g.user)
