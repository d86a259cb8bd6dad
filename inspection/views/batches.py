"""Batches API: create, read, list, export, amend (If-Match), void, revisions, bulk import."""
from __future__ import annotations

from flask import current_app, g, jsonify, request, url_for
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.errors import ValidationFailed
from core.etags import etag_for, expected_version
from core.export import download
from core.extensions import Blueprint, db
from core.fast_dump import Dumper, json_response
from core.jobs import Job
from inspection.schemas import (CREATED_HEADERS, CSV_MEDIA_TYPE, ETAG_HEADER, EXPORT_EXCLUDES, IF_MATCH,
                                IF_MATCH_OPTIONAL, IMPORT_FILE_BODY, XLSX_MEDIA_TYPE, BatchAmendSchema,
                                BatchCreateSchema, BatchExportArgs, BatchListArgs, BatchPageSchema, BatchSchema,
                                EnterpriseBriefSchema, ImportArgs, ImportReportSchema, JobLinkSchema,
                                ReasonSchema, RevisionSchema, TestItemSchema)
from inspection.services import batches as service
from inspection.services.batch_export import export_batches
from inspection.services.queries import BatchFilter, list_batches
from inspection.services.uploads import UploadLimits, import_or_queue

blp = Blueprint("batches", __name__, url_prefix="/api/batches", description="Sampling batches")
ID = "<int(min=1, max=2147483647):batch_id>"


def _with_etag(batch):
    return batch, 200, {"ETag": etag_for(batch.version)}


@blp.route("")
class Batches(MethodView):
    @require("read")
    @blp.arguments(BatchListArgs, location="query")
    @blp.response(200, BatchPageSchema)
    def get(self, args):
        """List batches with filters, newest first, one cursor page at a time."""
        sort, limit, cursor = args.pop("sort"), args.pop("limit"), args.pop("cursor", None)
        rows, next_cursor = list_batches(db.session, BatchFilter(**args), sort, limit, cursor,
                                         scope_of(g.user))
        return {"items": rows, "next_cursor": next_cursor}

    @require("record")
    @blp.arguments(BatchCreateSchema())  # an instance: a class is instantiated per request
    @blp.response(201, BatchSchema, headers=CREATED_HEADERS)
    def post(self, data):
        """Record a sampled batch with its test items."""
        batch = service.create_batch(db.session, data, g.user.id, scope_of(g.user))
        response = json_response(_recorded(batch))
        response.status_code = 201
        response.headers.update({"ETag": etag_for(batch.version),
                                 "Location": url_for("batches.Batch", batch_id=batch.id)})
        return response


# A recorded batch answered as BatchSchema dumps it, without marshmallow's per-value cost (a
# fifth of a write's CPU): its flat fields, then its enterprise and items.
_BATCH = Dumper(BatchSchema(exclude=("enterprise", "items")))
_ENTERPRISE, _ITEM = Dumper(EnterpriseBriefSchema), Dumper(TestItemSchema)


def _recorded(batch) -> dict:
    body = _BATCH.one(batch)
    body["enterprise"] = None if batch.enterprise is None else _ENTERPRISE.one(batch.enterprise)
    body["items"] = _ITEM.many(batch.items)
    return body


@blp.route("/export")
class BatchesExport(MethodView):
    @require("read")
    @blp.arguments(BatchExportArgs(exclude=EXPORT_EXCLUDES), location="query")
    @blp.response(200, {"type": "string"}, content_type=CSV_MEDIA_TYPE)
    @blp.alt_response(200, schema={"type": "string", "format": "binary"}, content_type=XLSX_MEDIA_TYPE,
                      description="The batches as a CSV (format=csv) or XLSX (format=xlsx) file in the bulk "
                                  "import's columns, English column names as the header")
    def get(self, args):
        """Download the batches the list's filters select, as a file the bulk import takes back.

        The same filters, regional scope and order (newest first) as `GET /api/batches`, without
        pages: one row per batch in the import file's columns (dates ISO, codes, `result` pass or
        fail, `failed_items` the failed items' names joined by `;`). Voided batches only with
        `include_voided`, as they stand. More matching batches than the server's
        BATCH_EXPORT_MAX_ROWS (default 50,000) are refused with 422 naming `sampled_from` and
        `region`, never cut short."""
        fmt = args.pop("format")
        made = export_batches(db.session, BatchFilter(**args), scope_of(g.user),
                              current_app.config["BATCH_EXPORT_MAX_ROWS"])
        return download(made.header, made.rows, fmt, "batches")


@blp.route(f"/{ID}")
class Batch(MethodView):
    @require("read")
    @blp.response(200, BatchSchema, headers=ETAG_HEADER)
    def get(self, batch_id: int):
        """Show one batch; its ETag is the version to send back when amending."""
        return _with_etag(service.get_batch(db.session, batch_id, scope_of(g.user)))

    @require("record")
    @blp.arguments(BatchAmendSchema)
    @blp.response(200, BatchSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH])
    def patch(self, data, batch_id: int):
        """Amend a batch with a reason; requires If-Match with its current ETag."""
        version = expected_version(required=True)
        reason = data.pop("reason")
        batch = service.amend_batch(db.session, batch_id, data, reason, version, g.user.id,
                                    scope_of(g.user))
        return _with_etag(batch)


@blp.route(f"/{ID}/void")
class BatchVoid(MethodView):
    @require("record")
    @blp.arguments(ReasonSchema)
    @blp.response(200, BatchSchema, headers=ETAG_HEADER)
    @blp.doc(parameters=[IF_MATCH_OPTIONAL])
    def post(self, data, batch_id: int):
        """Void a batch with a reason (it stays on record but leaves every statistic)."""
        batch = service.void_batch(db.session, batch_id, data["reason"], expected_version(required=False),
                                   g.user.id, scope_of(g.user))
        return _with_etag(batch)


@blp.route(f"/{ID}/revisions")
class BatchRevisions(MethodView):
    @require("read")
    @blp.response(200, RevisionSchema(many=True))
    def get(self, batch_id: int):
        """List the earlier versions of a batch, oldest first."""
        return service.list_revisions(db.session, batch_id, scope_of(g.user))


@blp.route("/import")
class BatchImport(MethodView):
    @require("record")
    @blp.arguments(ImportArgs, location="query")
    @blp.response(200, ImportReportSchema)
    @blp.alt_response(202, schema=JobLinkSchema, description="Large file queued for the worker",
                      headers={"Location": {"description": "The job's URL: poll it for progress and the report",
                                            "required": True, "schema": {"type": "string"},
                                            "example": "/api/jobs/1"}})
    @blp.doc(requestBody=IMPORT_FILE_BODY)
    def post(self, args):
        """Import batches from a CSV or XLSX file (multipart field `file`)."""
        upload = request.files.get("file")
        if upload is None:
            raise ValidationFailed.on("file", "send the file as multipart/form-data field 'file'")
        limits = UploadLimits.from_config(current_app.config)
        content = upload.read(limits.max_bytes + 1)
        outcome = import_or_queue(db.session, content, upload.filename or "upload.csv", args["atomic"],
                                  g.user.id, scope_of(g.user), limits)
        if isinstance(outcome, Job):
            url = url_for("jobs.JobResource", job_id=outcome.id)
            # A Response is passed through as is (not dumped with the 200 report schema).
            response = jsonify(JobLinkSchema().dump({"job_id": outcome.id, "url": url, "status": outcome.status}))
            response.status_code, response.headers["Location"] = 202, url
            return response
        return outcome
