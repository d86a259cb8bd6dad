"""An uploaded import file: imported at once when small, queued for the worker when large."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from sqlalchemy.orm import Session

from core.errors import PayloadTooLarge, ValidationFailed
from core.jobs import Job, enqueue
from core.messages import N_
from inspection.imports.archive import check_expansion
from inspection.imports.importer import ImportOptions, import_batches
from inspection.imports.reader import FileRefused, is_xlsx
from inspection.jobs import IMPORT_JOB

OVER_LIMIT = N_("the file is over the %(limit)s-byte limit")
FILE_TOO_LARGE = N_("file too large")


@dataclass(frozen=True)
class UploadLimits:
    max_bytes: int
    async_bytes: int  # above this the file is queued as a job
    max_rows: int
    parallel_bytes: int  # from this size the file is parsed in a second process (-1: never)

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "UploadLimits":
        return cls(config["IMPORT_MAX_BYTES"], config["IMPORT_ASYNC_BYTES"], config["IMPORT_MAX_ROWS"],
                   config["IMPORT_PARALLEL_BYTES"])


def import_or_queue(session: Session, content: bytes, filename: str, atomic: bool, user_id: int,
                    scope: str | None, limits: UploadLimits) -> dict | Job:
    """The row-by-row import report, or the queued job for a large file."""
    if len(content) > limits.max_bytes:
        raise PayloadTooLarge(OVER_LIMIT(limit=f"{limits.max_bytes:,}"), {"file": [FILE_TOO_LARGE]})
    if is_xlsx(content, filename):
        # Before the file is read here or queued: a workbook that unpacks a thousandfold would
        # hold a web thread or the worker for minutes and gigabytes.
        try:
            check_expansion(content)
        except FileRefused as refused:
            raise ValidationFailed.on("file", refused.message) from None
    if len(content) > limits.async_bytes:
        return enqueue(session, IMPORT_JOB, {"filename": filename, "atomic": atomic},
                       content, user_id)
    options = ImportOptions(filename=filename, user_id=user_id, atomic=atomic, scope=scope,
                            max_bytes=limits.max_bytes, max_rows=limits.max_rows,
                            parallel_bytes=limits.parallel_bytes)
    try:
        return import_batches(session, content, options).report()
    except FileRefused as refused:
        session.rollback()
        raise ValidationFailed.on("file", refused.message) from None
