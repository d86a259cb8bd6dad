"""Inspection's handlers for the worker's job table (large imports)."""
from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from core.jobs import Job, register_job_handler
from inspection.imports.importer import ImportOptions, import_batches
from inspection.imports.reader import FileRefused

IMPORT_JOB = "import_batches"


def run_import_job(session: Session, job: Job, report) -> dict:
    """Import the file stored with the job; a refused file is a result, not a crash."""
    options = ImportOptions(filename=job.params.get("filename", "upload"), user_id=job.created_by_id,
                            atomic=bool(job.params.get("atomic")), scope=job.params.get("scope"),
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
