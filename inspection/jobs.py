"""Inspection's handlers for the worker's job table (large imports)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from core.auth.models import User
from core.auth.permissions import may, scope_of
from core.jobs import Job, register_job_handler
from core.messages import N_
from inspection.imports.importer import ImportOptions, import_batches
from inspection.imports.reader import FileRefused

IMPORT_JOB = "import_batches"
MAY_NO_LONGER_RECORD = N_("the account that queued this file may no longer record batches")


def run_import_job(session: Session, job: Job, report) -> dict:
    """Import the file stored with the job; a refused file is a result, not a crash.

    The job runs with its owner's rights as they are now, not as they were when it was queued:
    an account disabled, stripped of recording or moved in the meantime writes nothing more
    (or only within its new region)."""
    owner = session.get(User, job.created_by_id) if job.created_by_id is not None else None
    if owner is None or not owner.active or not may(owner, "record"):
        return {"refused": MAY_NO_LONGER_RECORD}
    options = ImportOptions(filename=job.params.get("filename", "upload"), user_id=owner.id,
                            atomic=bool(job.params.get("atomic")), scope=scope_of(owner),
                            max_bytes=current_app.config["IMPORT_MAX_BYTES"],
                            max_rows=current_app.config["IMPORT_MAX_ROWS"],
                            parallel_bytes=current_app.config["IMPORT_PARALLEL_BYTES"])
    try:
        result = import_batches(session, job.payload or b"", options, report)
    except FileRefused as refused:
        session.rollback()
        return {"refused": str(refused)}
    return result.report()


def register() -> None:
    register_job_handler(IMPORT_JOB, run_import_job)
