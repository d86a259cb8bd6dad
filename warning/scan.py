"""The warning scan: read the series aggregate, assess every series, update the alerts.

Everything a scan writes (the scan, its assessments, the alert changes and the notices in the
outbox) commits in one transaction; a scan that fails leaves nothing behind. A database lease
keeps a second worker (or an operator's `flask warning scan`) from running at the same time.

A backfill (a scan as of an earlier month than the newest completed scan's) records its
assessments but leaves the alerts alone: old data must not resolve, raise or escalate today's
alerts, nor notify anyone. Its record says so (`backfill`, and `newest_as_of` in its settings).
A scan as of a month not over yet is refused: its data are incomplete, and the nightly scans of
the last complete month would be backfills until that month closed.
"""
from __future__ import annotations

import logging
from dataclasses import asdict
from datetime import date

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import local_today, month_end, month_of, parse_month, shift_month
from core.database import copy_rows, driver_rows
from core.errors import Conflict, ValidationFailed
from core.models import utcnow
from core.reference.trees import load_trees
from inspection.models import Batch, Enterprise, SeriesMonth
from warning import lease
from warning.engine import DEFAULT_SETTINGS, Panel, Settings, assess, panel_from_long
from warning.engine.levels import RANK
from warning.engine.training import history_months
from warning.lifecycle import dismissal_holds, held_dismissals, resolve_vanished
from warning.model_store import CLASSICAL, load_model, train_model
from warning.models import (
    ACTIVE_STATUSES,
    ALERT_LEVELS,
    Alert,
    AlertEvent,
    Assessment,
    Scan,
)
from warning.notify.outbox import notify_scan

log = logging.getLogger(__name__)

SCAN_LEASE = "warning-scan"
ASSESSMENT_COLUMNS = ("scan_id", "category_code", "region_code", "floor", "pass_rate", "pass_rate_lo",
                      "pass_rate_hi", "slope", "forecast", "probability", "level", "reasons")
LEASE_SECONDS = 3600  # the default of the SCAN_LEASE_SECONDS setting


class ScanBusy(Conflict):
    """Another scan holds the lease."""


def last_complete_month(today: date | None = None) -> str:
    return shift_month(month_of(today or local_today()), -1)


def run_scan(session: Session, as_of: str | None, holder: str,
             settings: Settings = DEFAULT_SETTINGS, lease_seconds: float = LEASE_SECONDS,
             model_dir: str | None = None) -> Scan:
    """Assess every series with a batch in the window ending `as_of` and update the alerts.

    The risk model is the one `train_risk_model` stored in `model_dir` for `as_of` (or a month
    shortly before; none keeps the scan classical, see warning/model_store.py). A scan
    killed midway keeps the lease until `lease_seconds` have passed; it must be longer than the
    longest scan, or a second scan could start while the first still runs."""
    as_of = as_of or last_complete_month()
    try:
        parse_month(as_of)
    except ValueError as exc:
        raise ValidationFailed.on("as_of", str(exc)) from None
    if as_of > last_complete_month():
        raise ValidationFailed.on("as_of", f"{as_of} is not over yet: the latest month a scan assesses is "
                                           f"{last_complete_month()}")
    session.rollback()  # start clean: the lease commits on its own
    if not lease.acquire(session, SCAN_LEASE, holder, lease_seconds):
        raise ScanBusy(f"another scan is running (lease '{SCAN_LEASE}' is held); try again later")
    try:
        scan = _scan(session, as_of, settings, model_dir, holder)
        session.commit()
    except Exception:
        session.rollback()
        log.exception("warning scan as of %s failed; nothing was written", as_of)
        raise
    finally:
        lease.release(session, SCAN_LEASE, holder)
    log.info("scan %s as of %s: %s series, %s raised, %s escalated, %s resolved", scan.id, as_of,
             scan.series_assessed, scan.alerts_raised, scan.alerts_escalated, scan.alerts_resolved)
    return scan


def _long_frame(session: Session, first: str, as_of: str) -> pd.DataFrame:
    query = (select(SeriesMonth.category_code, SeriesMonth.region_code, SeriesMonth.month,
                    func.sum(SeriesMonth.batches), func.sum(SeriesMonth.failed))
             .where(SeriesMonth.month >= first, SeriesMonth.month <= as_of)
             .group_by(SeriesMonth.category_code, SeriesMonth.region_code, SeriesMonth.month)
             .having(func.sum(SeriesMonth.batches) > 0))
    # The driver's own rows, column by column: as SQLAlchemy rows handed to pandas, the
    # million rows of 20 million batches cost 8 CPU s (pandas probed each row's attributes).
    rows = driver_rows(session.connection(), query)
    names = ["category", "region", "month", "n", "failed"]
    columns = list(zip(*rows)) or [()] * len(names)
    return pd.DataFrame({name: pd.Series(values, dtype=object if name in names[:3] else "int64")
                         for name, values in zip(names, columns)})


def blacklisted_shares(session: Session, trees, first: str, as_of: str) -> dict:
    """(category node, region node) -> share of the batches sampled in months first..as_of
    whose producer is blacklisted now, for every series with such a batch (others: none).

    Only the blacklisted producers' batches are read (through the enterprise index), grouped
    at the recorded (category, region) level and rolled up the two trees in pandas; each
    series' total comes from the aggregate. Grouping every batch of the window instead took
    8 s at 3 million batches, growing with them."""
    start, end = date(*parse_month(first), 1), month_end(*parse_month(as_of))
    rows = session.execute(
        select(Batch.category_code, Batch.region_code, func.count(Batch.id))
        .join(Enterprise, Enterprise.id == Batch.enterprise_id)
        .where(Enterprise.blacklisted.is_(True), Batch.voided_at.is_(None),
               Batch.sampled_on >= start, Batch.sampled_on <= end)
        .group_by(Batch.category_code, Batch.region_code)).all()
    if not rows:
        return {}
    frame = pd.DataFrame(rows, columns=["category", "region", "black"])
    frame["category"] = frame["category"].map(
        lambda c: (*(trees.categories.ancestors(c) if c in trees.categories else (c,)), "*"))
    frame["region"] = frame["region"].map(
        lambda r: trees.regions.ancestors(r) if r in trees.regions else (r,))
    black = frame.explode("category").explode("region").groupby(["category", "region"])["black"].sum()
    totals = dict(((c, r), n) for c, r, n in session.execute(
        select(SeriesMonth.category_code, SeriesMonth.region_code, func.sum(SeriesMonth.batches))
        .where(SeriesMonth.month >= first, SeriesMonth.month <= as_of)
        .group_by(SeriesMonth.category_code, SeriesMonth.region_code)))
    return {key: float(n) / totals[key] for key, n in black.items() if totals.get(key)}


def _panel_of(session: Session, trees, as_of: str, months_back: int,
              blacklist: bool = False) -> Panel | None:
    """The series aggregate of the `months_back` months to as_of, as known at as_of."""
    on = month_end(*parse_month(as_of))
    months = [shift_month(as_of, k) for k in range(-(months_back - 1), 1)]
    frame = _long_frame(session, months[0], as_of)
    floors = {c: trees.floors.effective(c, on) for c in frame["category"].unique()}
    frame = frame[frame["category"].map(lambda c: floors[c] is not None)]
    if frame.empty:
        return None
    return panel_from_long(
        frame, floors,
        cat_parent=lambda c: (trees.categories.nodes[c].parent_code if c in trees.categories else None),
        region_parent=lambda r: (trees.regions.nodes[r].parent_code if r in trees.regions else None),
        months=months,
        # Only for the assessment: the flag is today's, so past months cannot be trained on it.
        blacklisted_share=(blacklisted_shares(session, trees, months[0], as_of)
                           if blacklist else None))


def train_risk_model(session: Session, as_of: str | None, model_dir: str,
                     settings: Settings = DEFAULT_SETTINGS) -> dict:
    """Train the scans' risk model for `as_of` (default: the last complete month) on the
    history known then and store it in `model_dir`; returns the summary (version, what it
    learnt from; without a model, the reason). Reads only; no lease: it writes one file,
    atomically, and two runs at once only duplicate work."""
    as_of = as_of or last_complete_month()
    try:
        parse_month(as_of)
    except ValueError as exc:
        raise ValidationFailed.on("as_of", str(exc)) from None
    history = _panel_of(session, load_trees(session), as_of, history_months(settings))
    session.rollback()  # read only: end the read transaction
    return train_model(history, as_of, settings, model_dir)[1]


def ensure_risk_model(session: Session, as_of: str | None, model_dir: str,
                      settings: Settings = DEFAULT_SETTINGS) -> dict | None:
    """Train the risk model for `as_of` when no stored model fits it: none for the month or the
    fallback months before, or none trained under these settings (an upgrade that changes the
    engine's settings or features orphans the stored models, and the month-close training is a
    month away; a worker that was down at month close misses it). Returns the training summary,
    or None when a model was there. Without this the scans stay classical until then, with the
    classical thresholds: a different set of alerts raised and resolved overnight."""
    as_of = as_of or last_complete_month()
    model, _summary = load_model(as_of, settings, model_dir)
    if model is not None:
        return None
    return train_risk_model(session, as_of, model_dir, settings)


def _scan(session: Session, as_of: str, settings: Settings, model_dir: str | None, run_by: str) -> Scan:
    trees = load_trees(session)
    newest = session.scalar(select(func.max(Scan.as_of)).where(Scan.status == "done"))
    backfill = newest is not None and as_of < newest  # YYYY-MM strings sort as months do
    scan = Scan(as_of=as_of, status="running", model_version="", settings=asdict(settings), backfill=backfill,
                series_assessed=0, alerts_raised=0, alerts_escalated=0, alerts_resolved=0, run_by=run_by[:200])
    session.add(scan)
    session.flush()
    model, summary = None, {"version": CLASSICAL, "reason": "no series with a batch in the window"}
    panel = _panel_of(session, trees, as_of, settings.window, blacklist=True)
    if panel is not None:
        model, summary = load_model(as_of, settings, model_dir)
        result = assess(panel, settings, model)
        _record(session, scan, result, as_of, settings.horizon)
    scan.model_version = summary["version"]
    scan.settings = {**asdict(settings), "model": summary, **({"newest_as_of": newest} if backfill else {})}
    if not backfill:
        resolve_vanished(session, scan)
        notify_scan(session, scan)  # the outbox commits with the alerts it tells about
    scan.status, scan.finished_at = "done", utcnow()
    return scan


def _forecasts(result: pd.DataFrame, as_of: str, horizon: int) -> list[list[dict]]:
    """Each assessed series' forecast band: [{month, rate, lo, hi}] for the horizon's months."""
    months = [shift_month(as_of, h) for h in range(1, horizon + 1)]
    bands = [zip(*(result[f"forecast_{h}{end}"].astype(float).tolist() for end in ("", "_lo", "_hi")))
             for h in range(1, horizon + 1)]
    return [[{"month": month, "rate": rate, "lo": lo, "hi": hi} for month, (rate, lo, hi) in zip(months, series)]
            for series in zip(*bands)]


def _record(session: Session, scan: Scan, result: pd.DataFrame, as_of: str, horizon: int) -> None:
    active: dict = {}
    dismissed: dict = {}
    if not scan.backfill:  # a backfill leaves the alerts alone
        active = {(a.category_code, a.region_code): a for a in session.scalars(
            select(Alert).where(Alert.status.in_(ACTIVE_STATUSES)))}
        dismissed = held_dismissals(session, utcnow())
    # Column by column (a province has ~18,000 series; row dicts cost a second there).
    column = {name: result[name].tolist() for name in ("category", "region", "level")}
    number = {name: result[name].astype(float).tolist() for name in (
        "floor", "pass_rate", "pass_rate_lo", "pass_rate_hi", "trend_points_per_month", "prob_below")}
    reasons = [{"zh": zh, "en": en} for zh, en in zip(result["reason_zh"].astype(str), result["reason_en"].astype(str))]
    assessments = list(zip(
        [scan.id] * len(result), column["category"], column["region"], number["floor"], number["pass_rate"],
        number["pass_rate_lo"], number["pass_rate_hi"], number["trend_points_per_month"],
        _forecasts(result, as_of, horizon), number["prob_below"], map(str, column["level"]), reasons))
    if not scan.backfill:
        for key, level, prob in zip(zip(column["category"], column["region"]), column["level"], number["prob_below"]):
            _update_alert(session, scan, active.get(key), key, str(level), prob, dismissed.get(key))
    # Straight to the driver (COPY on PostgreSQL): as ORM objects, the 18,000 assessments of
    # a province took 11 CPU s to flush.
    copy_rows(session.connection(), Assessment.__table__, ASSESSMENT_COLUMNS, assessments)
    scan.series_assessed = len(assessments)


def _update_alert(session: Session, scan: Scan, alert: Alert | None, key: tuple[str, str],
                  level: str, prob: float, dismissed: Alert | None = None) -> None:
    flagged = level in ALERT_LEVELS
    if alert is None:
        if flagged and not dismissal_holds(dismissed, level):
            alert = Alert(category_code=key[0], region_code=key[1], level=level, status="open",
                          opened_scan_id=scan.id, last_scan_id=scan.id, probability=prob)
            note = f"above the level of dismissed alert {dismissed.id}" if dismissed else None
            alert.events.append(AlertEvent(action="raised", scan_id=scan.id, to_level=level, note=note))
            session.add(alert)
            scan.alerts_raised += 1
        return
    alert.probability, alert.last_scan_id = prob, scan.id
    if not flagged:
        alert.events.append(AlertEvent(action="resolved", scan_id=scan.id, from_level=alert.level,
                                       to_level=level))
        alert.status = "resolved"  # the level it reached stays on record
        scan.alerts_resolved += 1
    elif RANK[level] != RANK[alert.level]:
        action = "escalated" if RANK[level] > RANK[alert.level] else "lowered"
        alert.events.append(AlertEvent(action=action, scan_id=scan.id, from_level=alert.level,
                                       to_level=level))
        alert.level = level
        if action == "escalated":
            scan.alerts_escalated += 1
    alert.updated_at = utcnow()
