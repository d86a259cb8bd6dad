"""Early-warning metrics for /metrics (core/metrics.py): whether the scans run, what they found,
and whether their notices get out."""
from __future__ import annotations

from prometheus_client.core import GaugeMetricFamily
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.metrics import age_seconds
from warning.engine.levels import LEVELS
from warning.alerts import active_by_level
from warning.models import Scan
from warning.notify.models import OutboxMessage

WAITING = ("pending", "sending", "failed")  # notices not delivered (sent ones are only history)


def warning_families(session: Session):
    last = session.scalar(select(func.max(Scan.finished_at)).where(Scan.status == "done", Scan.backfill.is_(False)))
    yield GaugeMetricFamily("warning_last_scan_age_seconds",
                            "Seconds since the last scan finished (the worker scans nightly): alert past a day",
                            value=age_seconds(last) if last else float("inf"))
    running = session.scalar(select(func.count()).select_from(Scan).where(Scan.status == "running"))
    yield GaugeMetricFamily("warning_scans_running", "Scans running now (one at most: the lease)", value=running)
    by_level = active_by_level(session, None)  # alerts someone still has to deal with
    alerts = GaugeMetricFamily("warning_alerts_open", "Alerts not dismissed or resolved, by level", labels=["level"])
    for level in LEVELS[1:]:
        alerts.add_metric([level], by_level.get(level, 0))
    yield alerts
    by_status = dict(session.execute(select(OutboxMessage.status, func.count())
                                     .where(OutboxMessage.status.in_(WAITING))
                                     .group_by(OutboxMessage.status)).all())
    notices = GaugeMetricFamily("warning_notices_undelivered",
                                "Email and webhook notices not delivered: waiting (pending, sending) or given up "
                                "(failed)", labels=["status"])
    for status in WAITING:
        notices.add_metric([status], by_status.get(status, 0))
    yield notices
    oldest = session.scalar(select(func.min(OutboxMessage.created_at)).where(OutboxMessage.status == "pending"))
    yield GaugeMetricFamily("warning_notices_oldest_pending_seconds",
                            "How long the oldest notice waiting for delivery has waited (mail server down, or "
                            "no worker)", value=age_seconds(oldest))
