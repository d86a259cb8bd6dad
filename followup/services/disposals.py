"""Disposal (核查处置) of failed batches: record the steps, close with the outcome, list by state.

A failed batch needs a disposal from the moment it is reported; the row is created on its first
record. The deadline is `FOLLOWUP_DISPOSAL_MONTHS` after the report date (reported_on, else
sampled_on); "due" means open with the deadline within `FOLLOWUP_DISPOSAL_DUE_DAYS`.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import audit
from core.auth.permissions import PROVINCE
from core.clock import local_today
from core.errors import Conflict, ValidationFailed
from core.messages import N_
from core.models import utcnow
from core.reference.trees import load_trees
from followup.models import Disposal
from followup.services.common import add_months, failed_batch, not_future, region_codes, report_date
from followup.settings import load_settings
from inspection.models import Batch
from inspection.services.rules import known_region

STATES = ("open", "due", "overdue", "closed", "all")
RECORD_FIELDS = ("severity", "notified_on", "unit_notified_on", "measures", "cause", "outcome")
CLOSED = N_("the disposal of batch %(id)s is closed")
BEFORE_REPORT = N_("may not precede the batch's report date")
NEEDED_TO_CLOSE = N_("required to close a disposal")
FIELD_NEEDED_TO_CLOSE = N_("%(field)s is required to close a disposal")
BEFORE_NOTIFIED = N_("may not precede the day the producer was told")


@dataclass
class DisposalRow:
    """A failed batch with its disposal (None before anything was recorded) and its deadline."""

    batch: Batch
    disposal: Disposal | None
    deadline: date
    state: str  # open | due | overdue | closed
    days_left: int

    def __getattr__(self, name: str) -> Any:  # the disposal's fields, flat, for schemas and CSV
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self.disposal, name) if self.disposal is not None else None


def deadline_of(batch: Batch, months: int) -> date:
    return add_months(report_date(batch), months)


def _row(batch: Batch, disposal: Disposal | None, today: date, months: int, due_days: int) -> DisposalRow:
    deadline = deadline_of(batch, months)
    if disposal is not None and disposal.status == "closed":
        state = "closed"
    elif deadline < today:
        state = "overdue"
    elif deadline <= today + timedelta(days=due_days):
        state = "due"
    else:
        state = "open"
    return DisposalRow(batch, disposal, deadline, state, (deadline - today).days)


def _failed_stmt(session: Session, region: str | None, scope: str | None):
    stmt = (select(Batch, Disposal).outerjoin(Disposal, Disposal.batch_id == Batch.id)
            .where(Batch.conclusion == "fail", Batch.voided_at.is_(None)))
    codes = region_codes(session, region, scope)
    if codes is not None:
        stmt = stmt.where(Batch.region_code.in_(codes))
    return stmt


def list_disposals(session: Session, state: str = "open", region: str | None = None,
                   enterprise_id: int | None = None, scope: str | None = None,
                   limit: int = 100, offset: int = 0, today: date | None = None,
                   newest_first: bool = False) -> list[DisposalRow]:
    """Failed batches by disposal state, earliest deadline first (or the latest sampled first).

    `open` is every failed batch without a closed disposal (so it includes due and overdue ones),
    `due` those whose deadline falls within the due window, `overdue` those past it.
    """
    settings, today = load_settings(), today or local_today()
    stmt = _failed_stmt(session, region, scope)
    if enterprise_id is not None:
        stmt = stmt.where(Batch.enterprise_id == enterprise_id)
    if state == "closed":
        stmt = stmt.where(Disposal.status == "closed")
    elif state != "all":
        stmt = stmt.where((Disposal.id.is_(None)) | (Disposal.status != "closed"))
        reported = func.coalesce(Batch.reported_on, Batch.sampled_on)
        # A margin of a few days around the month arithmetic; the exact test is in _row.
        if state == "overdue":
            stmt = stmt.where(reported <= add_months(today, -settings.disposal_months) + timedelta(days=3))
        elif state == "due":
            horizon = today + timedelta(days=settings.disposal_due_days)
            stmt = stmt.where(reported <= add_months(horizon, -settings.disposal_months) + timedelta(days=3),
                              reported >= add_months(today, -settings.disposal_months) - timedelta(days=3))
    rows = [_row(b, d, today, settings.disposal_months, settings.disposal_due_days)
            for b, d in session.execute(stmt)]
    if state in ("due", "overdue"):
        rows = [r for r in rows if r.state == state]
    if newest_first:  # an enterprise's record lists its failures by the sampling date it shows
        rows.sort(key=lambda r: (r.batch.sampled_on, r.batch.id), reverse=True)
    else:
        rows.sort(key=lambda r: (r.deadline, r.batch.id))
    return rows[offset:offset + limit]


def summary_by_region(session: Session, region: str | None, scope: str | None,
                      today: date | None = None) -> list[dict[str, Any]]:
    """Per direct sub-region of `region` (default: the caller's region or the province): failed
    batches without a closed disposal, those due soon and those overdue."""
    trees = load_trees(session)
    if region:
        known_region(trees, region)
    parent = region or scope or PROVINCE
    if parent not in trees.regions or (scope and parent not in trees.regions.subtree(scope)):
        return []
    kids = trees.regions.kids(parent) or [parent]
    counts = {k: {"region": k, "name": trees.regions.nodes[k].name_zh, "open": 0, "due": 0, "overdue": 0}
              for k in kids}
    for row in list_disposals(session, "open", parent, None, scope, limit=10**9, today=today):
        kid = next((a for a in trees.regions.ancestors(row.batch.region_code) if a in counts), None)
        if kid is None:
            continue
        counts[kid]["open"] += 1
        if row.state in ("due", "overdue"):
            counts[kid][row.state] += 1
    return list(counts.values())


def pressing(session: Session, scope: str | None, today: date | None = None) -> dict[str, int]:
    """Failed batches in the caller's region whose disposal is overdue, and those due soon."""
    return {state: len(list_disposals(session, state, scope=scope, limit=10**9, today=today))
            for state in ("overdue", "due")}


def get_disposal(session: Session, batch_id: int, scope: str | None, today: date | None = None) -> DisposalRow:
    settings = load_settings()
    batch = failed_batch(session, batch_id, scope)
    disposal = session.scalar(select(Disposal).where(Disposal.batch_id == batch.id))
    return _row(batch, disposal, today or local_today(), settings.disposal_months, settings.disposal_due_days)


def _snapshot(d: Disposal) -> dict[str, Any]:
    return {f: getattr(d, f) for f in (*RECORD_FIELDS, "status", "closed_on")}


def _open_disposal(session: Session, batch: Batch, user_id: int) -> Disposal:
    disposal = session.scalar(select(Disposal).where(Disposal.batch_id == batch.id))
    if disposal is None:
        disposal = Disposal(batch_id=batch.id, created_by_id=user_id, status="open", severity="general")
        session.add(disposal)
    elif disposal.status == "closed":
        raise Conflict(CLOSED(id=batch.id))
    return disposal


def _apply(batch: Batch, disposal: Disposal, data: dict[str, Any]) -> None:
    today = local_today()
    for field in ("notified_on", "unit_notified_on"):
        not_future(field, data.get(field), today)
        if data.get(field) and data[field] < report_date(batch):
            raise ValidationFailed.on(field, BEFORE_REPORT)
    for field in RECORD_FIELDS:
        if field in data:
            value = data[field]
            setattr(disposal, field, (value.strip() or None) if isinstance(value, str) else value)


def record_disposal(session: Session, batch_id: int, data: dict[str, Any], user_id: int,
                    scope: str | None) -> DisposalRow:
    """Record steps of a disposal (notifications, measures, cause, outcome, severity)."""
    batch = failed_batch(session, batch_id, scope)
    disposal = _open_disposal(session, batch, user_id)
    before = _snapshot(disposal) if disposal.id else None
    _apply(batch, disposal, data)
    disposal.updated_at, disposal.updated_by_id = utcnow(), user_id
    session.flush()
    audit(session, user_id, "record", "disposal", batch.id, before, _snapshot(disposal))
    if batch.enterprise_id is not None and disposal.severity == "serious":
        from followup.services.blacklist import apply_rules

        # A second serious failure blacklists; the entry names the rule and the officer whose
        # record set it off, so the change is attributable like any other write.
        apply_rules(session, [batch.enterprise_id], user_id=user_id, commit=False)
    session.commit()
    return get_disposal(session, batch_id, scope)


def close_disposal(session: Session, batch_id: int, data: dict[str, Any], user_id: int,
                   scope: str | None) -> DisposalRow:
    """Close a disposal: the producer was told, the cause investigated and the outcome recorded."""
    batch = failed_batch(session, batch_id, scope)
    disposal = _open_disposal(session, batch, user_id)
    before = _snapshot(disposal) if disposal.id else None
    _apply(batch, disposal, {k: v for k, v in data.items() if v is not None and k != "closed_on"})
    missing = {f: [NEEDED_TO_CLOSE]
               for f in ("notified_on", "cause", "outcome") if not getattr(disposal, f)}
    if missing:
        raise ValidationFailed(FIELD_NEEDED_TO_CLOSE(field=next(iter(missing))), missing)
    closed_on = data.get("closed_on") or local_today()
    not_future("closed_on", closed_on, local_today())
    if closed_on < disposal.notified_on:
        raise ValidationFailed.on("closed_on", BEFORE_NOTIFIED)
    disposal.status, disposal.closed_on = "closed", closed_on
    disposal.updated_at, disposal.updated_by_id = utcnow(), user_id
    session.flush()
    audit(session, user_id, "close", "disposal", batch.id, before, _snapshot(disposal))
    session.commit()
    return get_disposal(session, batch_id, scope)


def disposal_for(session: Session, batch_id: int) -> Disposal | None:
    return session.scalar(select(Disposal).where(Disposal.batch_id == batch_id))

