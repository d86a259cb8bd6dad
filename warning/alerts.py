"""Alert use cases: list and show within the caller's scope, and triage actions (audited)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from sqlalchemy import Integer, bindparam, case, func, select
from sqlalchemy.engine import Row
from sqlalchemy.orm import Session

from core.audit import audit
from core.auth.models import User
from core.clock import month_end, parse_month
from core.errors import Conflict, NotFound, ValidationFailed
from core.messages import N_
from core.models import utcnow
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import load_trees
from inspection.models import SeriesMonth
from inspection.services.rules import UNKNOWN_CATEGORY, known_region
from warning.engine.levels import LEVELS
from warning.models import ACTIVE_STATUSES, Alert, AlertEvent, Assessment, Scan
from warning.notify.outbox import notify_escalation

# action -> (statuses it may start from, status it leads to, event recorded)
NO_ALERT = N_("no alert %(id)s")
DISMISS_REASON = N_("dismissing an alert needs a reason")
REFUSED = N_("alert %(id)s is %(status)s; it cannot be %(target)s")
NO_SERIES = N_("no series %(category)s / %(region)s")
ALERT_STATUS_WORDS = {"open": N_("open"), "acknowledged": N_("acknowledged"), "escalated": N_("escalated"),
                      "dismissed": N_("dismissed"), "closed": N_("closed")}
TRANSITIONS = {
    "acknowledge": (("open", "escalated"), "acknowledged", "acknowledged"),
    "escalate": (("open", "acknowledged"), "escalated", "escalated_by_user"),
    "dismiss": (("open", "acknowledged", "escalated"), "dismissed", "dismissed"),
}


@dataclass
class AlertFilter:
    level: str | None = None
    status: str | None = None
    category: str | None = None
    region: str | None = None
    sort: str = "-updated_at"  # or "-severity": the highest level first, then the likeliest


def _in_scope(session: Session, region: str, scope: str | None) -> bool:
    return scope is None or region in load_trees(session).regions.subtree(scope)


LIST_COLUMNS = tuple(Alert.__table__.columns)  # the order of a listed row's values
SEVERITY = {level: rank for rank, level in enumerate(LEVELS)}  # none 0 ... red 4
ALERT_SORTS = ("-updated_at", "-severity")


def list_alerts(session: Session, flt: AlertFilter, scope: str | None, limit: int,
                offset: int) -> list[Row]:
    """Alerts matching the filter within the caller's region subtree, most recent first, as rows
    of `LIST_COLUMNS` (a list answers with no events or history: plain rows are read without
    building ORM objects)."""
    trees = load_trees(session)
    params: dict = {"limit": limit, "offset": offset}
    if flt.level:
        params["level"] = flt.level
    if flt.status:
        params["status"] = flt.status
    if flt.category and flt.category != ALL_PRODUCTS:
        if flt.category not in trees.categories:  # refused: an empty list would read as "no alerts"
            raise ValidationFailed.on("category", UNKNOWN_CATEGORY(code=flt.category))
        params["categories"] = list(trees.categories.subtree(flt.category))
    if flt.region:
        known_region(trees, flt.region)
    regions = []
    for region in (flt.region, scope):
        if region:
            if region not in trees.regions:
                return []
            regions.append(list(trees.regions.subtree(region)))
    params.update((f"regions{i}", codes) for i, codes in enumerate(regions))
    stmt = _alert_list("level" in params, "status" in params, "categories" in params, len(regions), flt.sort)
    return session.connection().execute(stmt, params).all()


@cache
def _alert_list(level: bool, status: bool, categories: bool, regions: int, sort: str):
    """The list statement for one combination of filters, built once (its values are parameters)."""
    stmt = select(*LIST_COLUMNS)
    if level:
        stmt = stmt.where(Alert.level == bindparam("level"))
    if status:
        stmt = stmt.where(Alert.status == bindparam("status"))
    if categories:
        stmt = stmt.where(Alert.category_code.in_(bindparam("categories", expanding=True)))
    for i in range(regions):
        stmt = stmt.where(Alert.region_code.in_(bindparam(f"regions{i}", expanding=True)))
    if sort == "-severity":  # what to look at first: red before orange ..., then the likeliest
        stmt = stmt.order_by(case(SEVERITY, value=Alert.level, else_=0).desc(), Alert.probability.desc())
    return (stmt.order_by(Alert.updated_at.desc(), Alert.id.desc())
            .limit(bindparam("limit", type_=Integer)).offset(bindparam("offset", type_=Integer)))


def get_alert(session: Session, alert_id: int, scope: str | None) -> Alert:
    alert = session.get(Alert, alert_id)
    if alert is None or not _in_scope(session, alert.region_code, scope):
        raise NotFound(NO_ALERT(id=alert_id))
    return alert


def assessment_history(session: Session, category: str, region: str, limit: int = 36) -> list[Assessment]:
    """The series' assessments, latest month first (a backfill run later is older news)."""
    return list(session.scalars(
        select(Assessment).join(Scan, Scan.id == Assessment.scan_id)
        .where(Assessment.category_code == category, Assessment.region_code == region)
        .order_by(Scan.as_of.desc(), Assessment.scan_id.desc()).limit(limit)))


def act_on_alert(session: Session, alert_id: int, action: str, note: str | None, user_id: int,
                 scope: str | None, snooze_days: float) -> Alert:
    """Acknowledge, escalate or dismiss an alert; 409 when its status does not allow it.
    A dismissal holds for `snooze_days` unless the level rises (warning/lifecycle.py). An
    escalation notifies the alert's recipients (warning/notify/outbox.py) with the actor and note."""
    alert = get_alert(session, alert_id, scope)
    allowed_from, to_status, event = TRANSITIONS[action]
    note = (note or "").strip() or None  # spaces are no note, on the page as on the API
    if action == "dismiss" and not note:
        raise ValidationFailed.on("reason", DISMISS_REASON)
    if alert.status not in allowed_from:
        words = ALERT_STATUS_WORDS
        raise Conflict(REFUSED(id=alert_id, status=words.get(alert.status, alert.status),
                               target=words.get(to_status, to_status)))
    before = {"status": alert.status, "level": alert.level}
    alert.status, alert.updated_at = to_status, utcnow()
    if action == "dismiss":
        alert.dismissed_until = alert.updated_at + timedelta(days=snooze_days)
    alert.events.append(AlertEvent(action=event, user_id=user_id, from_level=alert.level,
                                   to_level=alert.level, note=note))
    if action == "escalate":  # the notices commit with the escalation they tell about
        notify_escalation(session, alert, session.get(User, user_id), note)
    audit(session, user_id, action, "alert", alert.id, before, {"status": alert.status, "level": alert.level,
                                                               "note": note, "dismissed_until": alert.dismissed_until})
    session.commit()
    return alert


@dataclass(frozen=True)
class ScanInScope:
    """A scan with its alert counts taken within one region (the rest reads through to the scan)."""

    scan: Scan
    alerts_raised: int
    alerts_escalated: int
    alerts_resolved: int

    def __getattr__(self, name: str):
        return getattr(self.scan, name)


# the scan's counters, by the alert event each one counts (warning.scan, warning.lifecycle)
_COUNTED = {"raised": "alerts_raised", "escalated": "alerts_escalated", "resolved": "alerts_resolved"}


def list_scans(session: Session, limit: int, offset: int, scope: str | None) -> list[Scan | ScanInScope]:
    """Scans, latest first; a caller limited to a region gets the alert counts of that region
    (the stored totals would tell them of alerts they may not see)."""
    scans = list(session.scalars(select(Scan).order_by(Scan.id.desc()).limit(limit).offset(offset)))
    if scope is None or not scans:
        return scans
    counts = {(scan.id, key): 0 for scan in scans for key in _COUNTED.values()}
    rows = session.execute(
        select(AlertEvent.scan_id, AlertEvent.action, func.count()).join(Alert, Alert.id == AlertEvent.alert_id)
        .where(AlertEvent.scan_id.in_([scan.id for scan in scans]), AlertEvent.action.in_(list(_COUNTED)),
               Alert.region_code.in_(load_trees(session).regions.subtree(scope)))
        .group_by(AlertEvent.scan_id, AlertEvent.action))
    for scan_id, action, n in rows:
        counts[scan_id, _COUNTED[action]] = n
    return [ScanInScope(scan, *(counts[scan.id, key] for key in _COUNTED.values())) for scan in scans]


def latest_model_summary(session: Session) -> dict | None:
    """What the risk model of the latest finished current scan learnt from (its summary in the
    scan's settings), or None when that scan was classical."""
    settings = session.scalar(select(Scan.settings).where(Scan.status == "done", Scan.backfill.is_(False))
                              .order_by(Scan.as_of.desc(), Scan.id.desc()).limit(1))
    model = (settings or {}).get("model") or {}
    return model if model.get("positive_share") is not None else None


def series_history(session: Session, category: str, region: str, scope: str | None) -> dict:
    """Monthly batches, pass rate and floor of one series, and its latest assessment."""
    trees = load_trees(session)
    if (category != ALL_PRODUCTS and category not in trees.categories) or region not in trees.regions \
            or not _in_scope(session, region, scope):
        raise NotFound(NO_SERIES(category=category, region=region))
    rows = session.execute(
        select(SeriesMonth.month, func.sum(SeriesMonth.batches), func.sum(SeriesMonth.failed))
        .where(SeriesMonth.category_code == category, SeriesMonth.region_code == region)
        .group_by(SeriesMonth.month).order_by(SeriesMonth.month)).all()
    months = [{"month": month, "batches": int(n), "failed": int(f),
               "pass_rate": (1 - f / n) if n else None,
               "floor": trees.floors.effective(category, month_end(*parse_month(month)))}
              for month, n, f in rows if n]
    latest = assessment_history(session, category, region, limit=1)
    return {"category": category, "region": region, "months": months,
            "assessment": latest[0] if latest else None}


def active_by_level(session: Session, scope: str | None) -> dict[str, int]:
    """Alerts still being handled (open, acknowledged, escalated) in the caller's region subtree,
    counted by level."""
    stmt = (select(Alert.level, func.count()).where(Alert.status.in_(ACTIVE_STATUSES))
            .group_by(Alert.level))
    if scope:
        stmt = stmt.where(Alert.region_code.in_(list(load_trees(session).regions.subtree(scope))))
    return {level: int(n) for level, n in session.execute(stmt)}


def latest_scan(session: Session) -> Scan | None:
    """The newest finished scan that kept the alerts (backfills only assess the past)."""
    return session.scalar(select(Scan).where(Scan.status == "done", Scan.backfill.is_(False))
                          .order_by(Scan.id.desc()).limit(1))
