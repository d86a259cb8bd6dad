"""Operational metrics for Prometheus at /metrics: what an operator alerts on.

The figures are read from the database when scraped, not counted in the process: gunicorn runs
several processes on several hosts and the worker is another one, while the database is the
one place that knows whether the scan ran last night, the mail got out and the imports were
taken up. A worker that died shows as a last scan growing old and a queue waiting longer.

Off unless METRICS_TOKEN is set (then the scraper sends it as a bearer token): the counts are
not personal data, but they are nobody else's business either.
"""
from __future__ import annotations

import hmac
from typing import Callable, Iterable

from flask import Blueprint, Flask, Response, abort, current_app, request
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, InfoMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.models import utcnow
from core.database import READ_ONLY
from core.extensions import db
from core.jobs import Job

Families = Callable[[Session], Iterable[GaugeMetricFamily | InfoMetricFamily]]

bp = Blueprint("metrics", __name__)


def register_metrics(app: Flask, *families: Families) -> None:
    """Add the functions giving a package's metric families (each reads the database)."""
    app.extensions.setdefault("metrics", []).extend(families)


def age_seconds(at) -> float:
    """Seconds since `at` (0 when there is nothing: an empty queue has waited no time)."""
    return max(0.0, (utcnow() - at).total_seconds()) if at is not None else 0.0


def job_families(session: Session):
    """Queued jobs (imports and backfills for `flask worker`) and how long the oldest has waited."""
    counts = dict(session.execute(select(Job.status, func.count()).group_by(Job.status)).all())
    jobs = GaugeMetricFamily("inspection_jobs", "Background jobs by status", labels=["status"])
    for status in ("queued", "running", "done", "failed"):
        jobs.add_metric([status], counts.get(status, 0))
    yield jobs
    oldest = session.scalar(select(func.min(Job.created_at)).where(Job.status == "queued"))
    yield GaugeMetricFamily("inspection_jobs_oldest_queued_seconds",
                            "How long the oldest queued job has waited (the worker takes one within seconds)",
                            value=age_seconds(oldest))


class _Families(Collector):
    def __init__(self, session: Session, families: list[Families]) -> None:
        self.session, self.families = session, families

    def collect(self):
        for families in self.families:
            yield from families(self.session)


@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN") or ""
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), token.encode()):
        return Response("a bearer token is required\n", 401, {"WWW-Authenticate": "Bearer"}, mimetype="text/plain")
    db.session.connection(execution_options=READ_ONLY)  # reads only: no transaction round trips
    registry = CollectorRegistry(auto_describe=False)
    registry.register(_Families(db.session, current_app.extensions.get("metrics", [])))
    return Response(generate_latest(registry), mimetype=CONTENT_TYPE_LATEST)
