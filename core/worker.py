"""`flask worker`: the system's one background process (APScheduler BlockingScheduler).

It works the job table and runs the scheduled jobs that domain packages register. It is never
started inside the web process: gunicorn would start one scheduler per worker.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import click
from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask, current_app
from flask.cli import with_appcontext

from core.extensions import db
from core.jobs import claim_next, requeue_stale, run_job

log = logging.getLogger(__name__)


@dataclass
class ScheduledJob:
    id: str
    func: Callable[[], Any]
    trigger: str
    # Or a function of the app's config, for a schedule that is a setting.
    trigger_args: dict[str, Any] | Callable[[Any], dict[str, Any]]


_scheduled: list[ScheduledJob] = []


def register_scheduled(job: ScheduledJob) -> None:
    """Add a scheduled job (stable id) for the worker; later issues add scans and outbox."""
    if all(j.id != job.id for j in _scheduled):
        _scheduled.append(job)


def work_queue(max_jobs: int = 100) -> int:
    """Run queued jobs until none is left (or `max_jobs`); return how many ran."""
    requeue_stale(db.session, current_app.config["WORKER_JOB_STALE_SECONDS"])
    done = 0
    while done < max_jobs:
        job = claim_next(db.session)
        if job is None:
            break
        log.info("job %s (%s) started", job.id, job.kind)
        try:
            run_job(db.session, job)
            log.info("job %s done", job.id)
        except Exception:
            log.exception("job %s failed", job.id)
        finally:
            db.session.remove()
        done += 1
    return done


def _in_context(app: Flask, func: Callable[[], Any]) -> Callable[[], Any]:
    def run() -> Any:
        with app.app_context():
            try:
                return func()
            finally:
                db.session.remove()
    return run


def build_scheduler(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=app.config["TIMEZONE"],
                                  job_defaults={"coalesce": True, "max_instances": 1,
                                                "misfire_grace_time": 300})
    scheduler.add_job(_in_context(app, work_queue), "interval", id="job-queue", name="job-queue",
                      seconds=app.config["WORKER_JOB_POLL_SECONDS"])
    for job in _scheduled:
        args = job.trigger_args(app.config) if callable(job.trigger_args) else job.trigger_args
        scheduler.add_job(_in_context(app, job.func), job.trigger, id=job.id, name=job.id, **args)
    return scheduler


@click.command("worker")
@click.option("--once", is_flag=True, help="Work the queued jobs once and exit.")
@with_appcontext
def worker_command(once: bool) -> None:
    """Run the background worker: queued jobs and scheduled jobs."""
    if once:
        click.echo(f"ran {work_queue()} job(s)")
        return
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    # APScheduler logs every run at INFO (every 2 s for the queue poll); jobs log their own work.
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    scheduler = build_scheduler(app)
    click.echo("worker started: " + ", ".join(j.id for j in scheduler.get_jobs()))
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        click.echo("worker stopped")
