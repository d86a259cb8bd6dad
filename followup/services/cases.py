"""Recall and traceability cases: open (from failed batches, an alert, or on their own), update,
record actions, move through the workflow; every step is kept as an event and audited.

Workflow: open -> investigating -> action_taken -> closed, or cancelled (with a reason) from any
unfinished status. A recall closes only with the quantity recovered and the disposal of the
recovered goods recorded.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import audit
from core.errors import Conflict, NotFound, ValidationFailed
from core.messages import N_
from core.models import utcnow
from core.reference.trees import load_trees
from followup.calendar import load_calendar
from followup.models import PRODUCT_TYPES, Case, CaseBatch, CaseEvent
from followup.services.common import (IN_FUTURE, check_writable, enterprise_in_scope, in_scope, region_codes,
                                      status_word)
from followup.services.deadlines import FINISHED, complete_overdue, recall_deadlines, start_overdue
from followup.settings import load_settings
from inspection.models import Enterprise
from inspection.services.batches import get_batch
from inspection.services.enterprises import NO_ENTERPRISE
from inspection.services.rules import UNKNOWN_REGION

TRANSITIONS: dict[str, tuple[str, ...]] = {
    "open": ("investigating", "cancelled"),
    "investigating": ("action_taken", "cancelled"),
    "action_taken": ("closed", "cancelled"),
    "closed": (),
    "cancelled": (),
}
RECALL_LEVEL = N_("a recall needs a level (I, II or III)")
ONLY_RECALL_LEVEL = N_("only a recall has a level")
NEGATIVE = N_("may not be negative")
MAX_QUANTITY = 1e12  # the API schema's bound; beyond it (or inf, nan) is a typo, not a recall
QUANTITY_RANGE = N_("must be a number from 0 to 1,000,000,000,000")
VOID_LINKED = N_("a void batch cannot be linked to a case")
NO_SOURCE = N_("a case is opened from batches, an alert or an enterprise")
GIVE_SOURCE = N_("give batches, an alert_id or an enterprise_id")
PRODUCT_TYPE = N_("say which product type the case is about")
NO_CASE = N_("no case %(id)s")
FINISHED_CASE = N_("case %(id)s is %(status)s; it can no longer change")
BEFORE_OPENING = N_("may not precede the opening of the case")
SAY_WHAT = N_("say what was done")
ONLY_RECALL_STARTS = N_("only a recall is started")
STARTED = N_("the recall of case %(id)s was already started at %(at)s")
REFUSED_MOVE = N_("case %(id)s cannot go from %(status)s to %(target)s (allowed: %(allowed)s)")
NOT_FROM = N_("not allowed from %(status)s")
CANCEL_REASON = N_("cancelling a case needs a reason")
CLOSE_OUTCOME = N_("required to close a case")
CLOSE_QUANTITY = N_("a recall closes only with the quantity recovered")
CLOSE_DISPOSAL = N_("a recall closes only with the disposal of the recovered goods")
CANNOT_CLOSE = N_("cannot close case %(id)s: %(fields)s missing")
DETAILS_CHANGED = N_("details changed")
OPENED = N_("opened %(kind)s case")
MOVED = N_("%(before)s -> %(after)s")
UPDATABLE = ("title", "level", "quantity_concerned", "quantity_recovered", "unit", "distribution",
             "recovered_disposal")


@dataclass
class CaseFilter:
    kind: str | None = None
    status: str | None = None
    region: str | None = None
    enterprise_id: int | None = None
    batch_id: int | None = None
    alert_id: int | None = None
    overdue: bool | None = None


def _event(session: Session, case: Case, user_id: int, kind: str, what: str, details: dict | None = None,
           from_status: str | None = None, to_status: str | None = None, at: datetime | None = None) -> None:
    case.events.append(CaseEvent(user_id=user_id, kind=kind, what=what, details=details, from_status=from_status,
                                 to_status=to_status, at=at or utcnow()))


def _snapshot(case: Case) -> dict[str, Any]:
    """What the audit trail keeps of a case: every field a use case sets (the deadlines follow
    from the kind, product type, level and opening)."""
    return {"kind": case.kind, "status": case.status, "level": case.level, "title": case.title,
            "source": case.source, "region_code": case.region_code, "product_type": case.product_type,
            "quantity_concerned": case.quantity_concerned, "quantity_recovered": case.quantity_recovered,
            "unit": case.unit, "distribution": case.distribution, "recovered_disposal": case.recovered_disposal,
            "batch_ids": case.batch_ids, "enterprise_id": case.enterprise_id, "alert_id": case.alert_id,
            "opened_at": case.opened_at, "started_at": case.started_at, "outcome": case.outcome,
            "cancel_reason": case.cancel_reason, "closed_at": case.closed_at}


def _product_type(trees_root: str | None) -> str | None:
    return trees_root if trees_root in PRODUCT_TYPES else None


def _check_level(kind: str, level: str | None) -> None:
    if kind == "recall" and not level:
        raise ValidationFailed.on("level", RECALL_LEVEL)
    if kind == "traceability" and level:
        raise ValidationFailed.on("level", ONLY_RECALL_LEVEL)


def _check_distribution(session: Session, codes: list[str] | None) -> None:
    """The regions the goods reached are divisions of the region tree (as every region code is)."""
    regions = load_trees(session).regions
    for code in codes or []:
        if code not in regions:
            raise ValidationFailed.on("distribution", UNKNOWN_REGION(code=code))


def _check_quantities(data: dict[str, Any]) -> None:
    for field in ("quantity_concerned", "quantity_recovered"):
        value = data.get(field)
        if value is None:
            continue
        if not math.isfinite(value) or value > MAX_QUANTITY:
            raise ValidationFailed.on(field, QUANTITY_RANGE)
        if value < 0:
            raise ValidationFailed.on(field, NEGATIVE)


def _set_deadlines(session: Session, case: Case) -> None:
    case.start_due_at, case.complete_due_on = recall_deadlines(
        case.kind, case.product_type, case.level, case.opened_at, load_settings(), load_calendar(session))


def open_case(session: Session, data: dict[str, Any], user_id: int, scope: str | None) -> Case:
    """Open a recall or traceability case from batches, an alert, or on its own (an enterprise)."""
    from warning.alerts import get_alert

    kind, level = data["kind"], data.get("level")
    _check_level(kind, level)
    _check_quantities(data)
    batches = [get_batch(session, bid, scope) for bid in dict.fromkeys(data.get("batch_ids") or [])]
    if any(b.voided_at is not None for b in batches):
        raise ValidationFailed.on("batch_ids", VOID_LINKED)
    alert = get_alert(session, data["alert_id"], scope) if data.get("alert_id") else None
    enterprise = None
    if data.get("enterprise_id"):
        enterprise = session.get(Enterprise, data["enterprise_id"])
        # The producer of a linked batch, wherever registered (recalls reach upstream), or one the
        # officer can see; anything else answers as if it did not exist (no probing of ids).
        if enterprise is None or not (enterprise.id in {b.enterprise_id for b in batches}
                                      or enterprise_in_scope(session, enterprise, scope)):
            raise ValidationFailed.on("enterprise_id", NO_ENTERPRISE(id=data["enterprise_id"]))
    elif batches and batches[0].enterprise is not None:
        enterprise = batches[0].enterprise
    if batches:
        region, root = batches[0].region_code, batches[0].category_code.split(".")[0]
    elif alert is not None:
        region, root = alert.region_code, alert.category_code.split(".")[0]
    elif enterprise is not None:
        region, root = enterprise.region_code, None
    else:
        raise ValidationFailed(NO_SOURCE, {"batch_ids": [GIVE_SOURCE]})
    product_type = data.get("product_type") or _product_type(root)
    if product_type is None:
        raise ValidationFailed.on("product_type", PRODUCT_TYPE)
    check_writable(session, region, scope)
    _check_distribution(session, data.get("distribution"))
    opened_at = data.get("opened_at") or utcnow()
    if opened_at > utcnow():
        raise ValidationFailed.on("opened_at", IN_FUTURE)
    case = Case(kind=kind, title=data["title"].strip(), source="batch" if batches else "alert" if alert else "none",
                status="open", region_code=region, enterprise_id=enterprise.id if enterprise else None,
                alert_id=alert.id if alert else None, product_type=product_type, level=level,
                quantity_concerned=data.get("quantity_concerned"), unit=data.get("unit"),
                distribution=list(dict.fromkeys(data.get("distribution") or [])), opened_at=opened_at,
                opened_by_id=user_id, batch_links=[CaseBatch(batch_id=b.id) for b in batches])
    _set_deadlines(session, case)
    session.add(case)
    _event(session, case, user_id, "opened", data.get("note") or OPENED(kind=status_word(kind)), to_status="open",
           at=opened_at)
    session.flush()
    audit(session, user_id, "open", "case", case.id, None, _snapshot(case))
    session.commit()
    return case


def get_case(session: Session, case_id: int, scope: str | None) -> Case:
    case = session.get(Case, case_id)
    if case is None or not in_scope(session, case.region_code, scope):
        raise NotFound(NO_CASE(id=case_id))
    return case


def list_cases(session: Session, flt: CaseFilter, scope: str | None, limit: int = 100,
               offset: int = 0) -> list[Case]:
    """Cases in the caller's region subtree matching the filter, newest first."""
    stmt = select(Case)
    codes = region_codes(session, flt.region, scope)
    if codes is not None:
        stmt = stmt.where(Case.region_code.in_(codes))
    for field in ("kind", "status", "enterprise_id", "alert_id"):
        if getattr(flt, field) is not None:
            stmt = stmt.where(getattr(Case, field) == getattr(flt, field))
    if flt.batch_id is not None:
        stmt = stmt.where(Case.id.in_(select(CaseBatch.case_id).where(CaseBatch.batch_id == flt.batch_id)))
    stmt = stmt.order_by(Case.opened_at.desc(), Case.id.desc())
    if flt.overdue is None:
        return list(session.scalars(stmt.limit(limit).offset(offset)))
    # Overdue depends on the clock and the calendar; cases are few enough to filter here.
    rows = [c for c in session.scalars(stmt) if is_overdue(c) == flt.overdue]
    return rows[offset:offset + limit]


def count_overdue_unfinished(session: Session, scope: str | None) -> int:
    """Cases in the caller's region still open (not closed or cancelled) and past a deadline."""
    return sum(1 for c in list_cases(session, CaseFilter(overdue=True), scope, limit=10**9)
               if c.status not in FINISHED)


def is_overdue(case: Case) -> bool:
    return start_overdue(case) or complete_overdue(case)


def _unfinished(case: Case) -> None:
    if case.status in FINISHED:
        raise Conflict(FINISHED_CASE(id=case.id, status=status_word(case.status)))


def update_case(session: Session, case_id: int, data: dict[str, Any], user_id: int, scope: str | None) -> Case:
    """Change a case's details (level, quantities, distribution, ...) or link more batches."""
    case = get_case(session, case_id, scope)
    _unfinished(case)
    _check_quantities(data)
    before = _snapshot(case)
    if "level" in data:
        _check_level(case.kind, data["level"])
    _check_distribution(session, data.get("distribution"))
    added = [bid for bid in dict.fromkeys(data.get("add_batch_ids") or []) if bid not in case.batch_ids]
    for batch in [get_batch(session, bid, scope) for bid in added]:
        if batch.voided_at is not None:
            raise ValidationFailed.on("add_batch_ids", VOID_LINKED)
    changes = {}
    for field in UPDATABLE:
        if field in data and data[field] != getattr(case, field):
            value = data[field]
            if field == "title":
                value = value.strip()
            elif field == "distribution":
                value = list(dict.fromkeys(value or []))
            changes[field] = value
            setattr(case, field, value)
    if added:
        case.batch_links.extend(CaseBatch(batch_id=bid) for bid in added)
        changes["add_batch_ids"] = added
    if not changes:
        return case
    if "level" in changes:
        _set_deadlines(session, case)
    _event(session, case, user_id, "update", data.get("note") or DETAILS_CHANGED,
           changes)
    session.flush()
    audit(session, user_id, "update", "case", case.id, before, _snapshot(case))
    session.commit()
    return case


def record_action(session: Session, case_id: int, data: dict[str, Any], user_id: int, scope: str | None) -> Case:
    """Record an action taken (who, when, what); `started` marks the recall's start (food) or the
    notification of distributors and users (drugs), which the start deadline measures."""
    case = get_case(session, case_id, scope)
    _unfinished(case)
    at = data.get("at") or utcnow()
    if at > utcnow():
        raise ValidationFailed.on("at", IN_FUTURE)
    if at < case.opened_at:
        raise ValidationFailed.on("at", BEFORE_OPENING)
    what = data["what"].strip()
    if not what:
        raise ValidationFailed.on("what", SAY_WHAT)
    if data.get("started"):
        if case.kind != "recall":
            raise ValidationFailed.on("started", ONLY_RECALL_STARTS)
        if case.started_at is not None:
            raise Conflict(STARTED(id=case.id, at=case.started_at))
        case.started_at = at
    _event(session, case, user_id, "action", what, {"started": True} if data.get("started") else None, at=at)
    session.flush()
    audit(session, user_id, "action", "case", case.id, None, {"what": what, "at": at,
                                                              "started": bool(data.get("started"))})
    session.commit()
    return case


def transition(session: Session, case_id: int, data: dict[str, Any], user_id: int, scope: str | None) -> Case:
    """Move a case to its next status; refuse (409) a move the workflow does not allow."""
    case = get_case(session, case_id, scope)
    target = data["to"]
    if target not in TRANSITIONS[case.status]:
        allowed = [status_word(s) for s in TRANSITIONS[case.status]] or status_word("none")
        status = status_word(case.status)
        raise Conflict(REFUSED_MOVE(id=case.id, status=status, target=status_word(target), allowed=allowed),
                       {"to": [NOT_FROM(status=status)]})
    note = (data.get("note") or "").strip()
    before = _snapshot(case)
    if target == "cancelled":
        reason = (data.get("reason") or "").strip()
        if not reason:
            raise ValidationFailed.on("reason", CANCEL_REASON)
        case.cancel_reason, note = reason, note or reason
    if target == "closed":
        _check_quantities(data)
        given = {f: data[f].strip() if isinstance(data[f], str) else data[f]
                 for f in ("quantity_recovered", "recovered_disposal", "outcome") if data.get(f) is not None}
        merged = {f: given.get(f, getattr(case, f)) for f in ("quantity_recovered", "recovered_disposal", "outcome")}
        missing = {}
        if not merged["outcome"]:
            missing["outcome"] = [CLOSE_OUTCOME]
        if case.kind == "recall":
            if merged["quantity_recovered"] is None:
                missing["quantity_recovered"] = [CLOSE_QUANTITY]
            if not merged["recovered_disposal"]:
                missing["recovered_disposal"] = [CLOSE_DISPOSAL]
        if missing:
            raise ValidationFailed(CANNOT_CLOSE(id=case.id, fields=list(missing)), missing)
        for field, value in given.items():
            setattr(case, field, value)
        case.closed_at, note = utcnow(), note or case.outcome
    if target == "cancelled":
        case.closed_at = utcnow()
    from_status, case.status = case.status, target
    note = note or MOVED(before=status_word(from_status), after=status_word(target))
    _event(session, case, user_id, "transition", note, None, from_status, target)
    session.flush()
    audit(session, user_id, "transition", "case", case.id, before, _snapshot(case))
    session.commit()
    return case
