"""A job table worked by `flask worker`: queued work (large imports) that outlives a request.

Domain packages register a handler per job kind; the worker claims a queued job with a
conditional UPDATE, so two workers never run the same job.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Callable

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, deferred, mapped_column

from core.errors import NotFound
from core.messages import N_
from core.models import Base, UTCDateTime, utcnow

JOB_STATUSES = ("queued", "running", "done", "failed")
NO_JOB = N_("no job %(id)s")


class Job(Base):
    __tablename__ = "jobs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    # The uploaded file travels in the database, so a worker on another host can read it.
    payload: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    progress: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int | None] = mapped_column(Integer)
    result: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


# kind -> handler(session, job, report_progress) returning the job's result
JobHandler = Callable[[Session, Job, Callable[[int, int], None]], dict[str, Any]]
_handlers: dict[str, JobHandler] = {}


def register_job_handler(kind: str, handler: JobHandler) -> None:
    _handlers[kind] = handler


def enqueue(session: Session, kind: str, params: dict, payload: bytes | None,
            user_id: int | None) -> Job:
    job = Job(kind=kind, params=params, payload=payload, created_by_id=user_id)
    session.add(job)
    session.commit()
    return job


def job_for(session: Session, job_id: int, user) -> Job:
    """A job as seen by `user`: only who queued it (or an administrator) sees it, else 404."""
    job = session.get(Job, job_id)
    if job is None or (job.created_by_id != user.id and not user.has_role("admin")):
        raise NotFound(NO_JOB(id=job_id))
    return job


def claim_next(session: Session) -> Job | None:
    """Claim the oldest queued job; a conditional UPDATE makes the claim exclusive."""
    for job_id in session.scalars(select(Job.id).where(Job.status == "queued").order_by(Job.id).limit(5)):
        claimed = session.execute(
            update(Job).where(Job.id == job_id, Job.status == "queued")
            .values(status="running", started_at=utcnow())
        ).rowcount
        session.commit()
        if claimed:
            return session.get(Job, job_id)
    return None


def requeue_stale(session: Session, older_than_seconds: float) -> int:
    """Put back jobs whose worker died mid-run (their work rolled back with it)."""
    cutoff = utcnow() - timedelta(seconds=older_than_seconds)
    count = session.execute(
        update(Job).where(Job.status == "running", Job.started_at < cutoff)
        .values(status="queued", started_at=None, progress=0)
    ).rowcount
    session.commit()
    return count


def run_job(session: Session, job: Job) -> None:
    """Run one claimed job to the end, recording its result or its error."""
    handler = _handlers.get(job.kind)
    job_id = job.id

    def report(done: int, total: int) -> None:
        # Progress goes through its own connection and commit, so the handler's transaction
        # stays open (and atomic) while others can already read how far it got.
        with session.get_bind().connect() as conn:
            conn.execute(update(Job).where(Job.id == job_id).values(progress=done, total=total))
            conn.commit()

    try:
        if handler is None:
            raise RuntimeError(f"no handler for job kind '{job.kind}'")
        result = handler(session, job, report)
    except Exception as exc:  # a failed job is recorded, never lost
        session.rollback()
        job = session.get(Job, job_id)
        job.status, job.error, job.finished_at = "failed", f"{type(exc).__name__}: {exc}", utcnow()
        session.commit()
        raise
    job = session.get(Job, job_id)
    job.status, job.result, job.finished_at = "done", result, utcnow()
    job.payload = None  # the file is not needed once its report is stored
    session.commit()
