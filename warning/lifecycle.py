"""Alert rules a scan applies beyond one series' level: dismissals that hold, vanished series.

A dismissal holds for its series until `Alert.dismissed_until` (set from ALERT_DISMISS_SNOOZE_DAYS
when a supervisor dismisses it): while it holds, a scan raises no new alert on that series at the
dismissed level or below; a level above it raises a new alert at once. An alert whose series no
longer has a batch in the scan window is resolved: there is nothing left to assess it on.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from warning.engine.levels import RANK
from warning.models import ACTIVE_STATUSES, Alert, AlertEvent, Scan

Key = tuple[str, str]


def held_dismissals(session: Session, now: datetime) -> dict[Key, Alert]:
    """The dismissed alert still holding each series (the latest, when several do)."""
    held: dict[Key, Alert] = {}
    for alert in session.scalars(select(Alert).where(Alert.status == "dismissed", Alert.dismissed_until > now)
                                 .order_by(Alert.id)):
        held[(alert.category_code, alert.region_code)] = alert
    return held


def dismissal_holds(dismissed: Alert | None, level: str) -> bool:
    return dismissed is not None and RANK[level] <= RANK[dismissed.level]


def resolve_vanished(session: Session, scan: Scan) -> int:
    """Resolve the active alerts this scan did not assess (their series left the window)."""
    stale = session.scalars(select(Alert).where(Alert.status.in_(ACTIVE_STATUSES), Alert.last_scan_id != scan.id))
    count = 0
    for alert in stale:
        alert.events.append(AlertEvent(action="resolved", scan_id=scan.id, from_level=alert.level,
                                       note=f"no batch in the scan window ending {scan.as_of}"))
        alert.status, alert.last_scan_id = "resolved", scan.id
        count += 1
    scan.alerts_resolved += count
    return count
