"""Retests (复检) and objections (异议) against a failed batch.

A producer may apply for a retest within `FOLLOWUP_RETEST_WORKING_DAYS` working days of being
told of the failure (the disposal's notified_on); later applications are refused with the date
that was due. The retest goes to another laboratory and its conclusion is final: a pass amends
the batch through the batch amendment path (revision kept, series aggregate updated).
"""
from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import audit
from core.clock import local_today
from core.errors import Conflict, NotFound, ValidationFailed
from core.messages import N_
from followup.calendar import load_calendar
from followup.models import Objection, Retest
from followup.services.common import failed_batch, in_scope, not_future, region_codes, require_text, status_word
from followup.services.disposals import disposal_for
from followup.settings import load_settings
from inspection.models import Batch
from inspection.services.batches import ITEM_FIELDS, amend_batch, get_batch

HAS_RETEST = N_("batch %(id)s already has a retest; its conclusion is final")
NOT_NOTIFIED = N_("record first when the producer was told of the failure (the disposal's notified_on)")
NOT_RECORDED = N_("not recorded")
BEFORE_NOTIFIED = N_("may not precede the day the producer was told")
TOO_LATE = N_("too late: a retest had to be applied for by %(due)s (%(days)s working days after %(notified)s)")
SAME_LAB = N_("a retest goes to a laboratory other than the first one")
NO_RETEST = N_("no retest %(id)s")
NO_OBJECTION = N_("no objection %(id)s")
CONCLUDED = N_("retest %(id)s is already concluded (%(conclusion)s); its conclusion is final")
BEFORE_APPLICATION = N_("may not precede the application")
PASS_WITH_FAILING_ITEM = N_("a passing retest cannot have a failing item")
DECIDED = N_("objection %(id)s is already decided (%(status)s)")
BEFORE_OBJECTION = N_("may not precede the objection")


def _same_lab(a: str | None, b: str | None) -> bool:
    return bool(a and b) and "".join(a.split()).lower() == "".join(b.split()).lower()


def retest_due_on(session: Session, notified_on: date) -> date:
    """The last day a retest application is accepted."""
    return load_calendar(session).add_working_days(notified_on, load_settings().retest_working_days)


def apply_for_retest(session: Session, batch_id: int, data: dict[str, Any], user_id: int,
                     scope: str | None) -> Retest:
    """Record a producer's retest application; refuse a late one, a second one, the same laboratory."""
    batch = failed_batch(session, batch_id, scope)
    if session.scalar(select(Retest.id).where(Retest.batch_id == batch.id)) is not None:
        raise Conflict(HAS_RETEST(id=batch.id))
    disposal = disposal_for(session, batch.id)
    if disposal is None or disposal.notified_on is None:
        raise Conflict(NOT_NOTIFIED, {"notified_on": [NOT_RECORDED]})
    applied_on: date = data["applied_on"]
    not_future("applied_on", applied_on, local_today())
    if applied_on < disposal.notified_on:
        raise ValidationFailed.on("applied_on", BEFORE_NOTIFIED)
    due = retest_due_on(session, disposal.notified_on)
    if applied_on > due:
        raise ValidationFailed.on("applied_on", TOO_LATE(due=due, days=load_settings().retest_working_days,
                                                         notified=disposal.notified_on))
    require_text(data, "laboratory")
    if _same_lab(data["laboratory"], batch.laboratory):
        raise ValidationFailed.on("laboratory", SAME_LAB)
    retest = Retest(batch_id=batch.id, applied_on=applied_on, due_on=due, applicant=data.get("applicant"),
                    laboratory=data["laboratory"].strip(), status="requested", created_by_id=user_id)
    session.add(retest)
    session.flush()
    audit(session, user_id, "apply", "retest", retest.id, None,
          {"batch_id": batch.id, "applied_on": applied_on, "due_on": due, "applicant": retest.applicant,
           "laboratory": retest.laboratory})
    session.commit()
    return retest


def _get(session: Session, model, record_id: int, scope: str | None, missing):
    record = session.get(model, record_id)
    if record is None or not in_scope(session, session.get(Batch, record.batch_id).region_code, scope):
        raise NotFound(missing(id=record_id))
    return record


def _list(session: Session, model, scope: str | None, batch_id: int | None, status: str | None,
          limit: int, offset: int) -> list:
    """Retests or objections of batches in the caller's region subtree, newest first."""
    stmt = select(model).join(Batch, Batch.id == model.batch_id)
    codes = region_codes(session, None, scope)
    if codes is not None:
        stmt = stmt.where(Batch.region_code.in_(codes))
    if batch_id is not None:
        stmt = stmt.where(model.batch_id == batch_id)
    if status:
        stmt = stmt.where(model.status == status)
    return list(session.scalars(stmt.order_by(model.id.desc()).limit(limit).offset(offset)))


def get_retest(session: Session, retest_id: int, scope: str | None) -> Retest:
    return _get(session, Retest, retest_id, scope, NO_RETEST)


def list_retests(session: Session, scope: str | None, batch_id: int | None = None, status: str | None = None,
                 limit: int = 100, offset: int = 0) -> list[Retest]:
    return _list(session, Retest, scope, batch_id, status, limit, offset)


def _passing_items(batch: Batch, items: list[dict] | None) -> list[dict]:
    if items:
        return items
    # Without the retest's own items, the first items stand with their verdicts reversed by the retest.
    return [{**{f: getattr(i, f) for f in ITEM_FIELDS}, "verdict": "pass"} for i in batch.items]


def conclude_retest(session: Session, retest_id: int, data: dict[str, Any], user_id: int,
                    scope: str | None) -> Retest:
    """Record the retest's final conclusion; a pass amends the batch's conclusion."""
    retest = get_retest(session, retest_id, scope)
    if retest.status != "requested":
        raise Conflict(CONCLUDED(id=retest_id, conclusion=status_word(retest.conclusion)))
    concluded_on = data.get("concluded_on") or local_today()
    not_future("concluded_on", concluded_on, local_today())
    if concluded_on < retest.applied_on:
        raise ValidationFailed.on("concluded_on", BEFORE_APPLICATION)
    if data["conclusion"] == "pass" and any(i.get("verdict") == "fail" for i in data.get("items") or []):
        raise ValidationFailed.on("items", PASS_WITH_FAILING_ITEM)
    retest.status, retest.conclusion = "concluded", data["conclusion"]
    report_no = (data.get("report_no") or "").strip() or None  # spaces are no report number (as on the page)
    retest.report_no, retest.concluded_on, retest.concluded_by_id = report_no, concluded_on, user_id
    audit(session, user_id, "conclude", "retest", retest.id, {"status": "requested"},
          {"status": "concluded", "conclusion": retest.conclusion, "report_no": retest.report_no,
           "concluded_on": concluded_on})
    if retest.conclusion == "fail":
        session.commit()
        return retest
    batch = get_batch(session, retest.batch_id, scope)
    changes = {"conclusion": "pass", "fail_reason": None, "laboratory": retest.laboratory,
               "report_no": retest.report_no or batch.report_no, "items": _passing_items(batch, data.get("items"))}
    reason = f"复检合格 / retest {retest.id} passed at {retest.laboratory}" + (
        f", report {retest.report_no}" if retest.report_no else "")
    try:
        amend_batch(session, batch.id, changes, reason, batch.version, user_id, scope)  # commits
    except Exception:
        session.rollback()
        raise
    return retest


def raise_objection(session: Session, batch_id: int, data: dict[str, Any], user_id: int,
                    scope: str | None) -> Objection:
    """Record an objection about the sampling or the test method of a failed batch."""
    batch = failed_batch(session, batch_id, scope)
    require_text(data, "grounds")
    raised_on = data.get("raised_on") or local_today()
    not_future("raised_on", raised_on, local_today())
    objection = Objection(batch_id=batch.id, raised_on=raised_on, subject=data["subject"],
                          grounds=data["grounds"].strip(), status="open", created_by_id=user_id)
    session.add(objection)
    session.flush()
    audit(session, user_id, "raise", "objection", objection.id, None,
          {"batch_id": batch.id, "raised_on": raised_on, "subject": objection.subject,
           "grounds": objection.grounds})
    session.commit()
    return objection


def get_objection(session: Session, objection_id: int, scope: str | None) -> Objection:
    return _get(session, Objection, objection_id, scope, NO_OBJECTION)


def list_objections(session: Session, scope: str | None, batch_id: int | None = None, status: str | None = None,
                    limit: int = 100, offset: int = 0) -> list[Objection]:
    return _list(session, Objection, scope, batch_id, status, limit, offset)


def decide_objection(session: Session, objection_id: int, data: dict[str, Any], user_id: int,
                     scope: str | None) -> Objection:
    """Uphold or reject an open objection, with the decision's grounds."""
    objection = get_objection(session, objection_id, scope)
    if objection.status != "open":
        raise Conflict(DECIDED(id=objection_id, status=status_word(objection.status)))
    require_text(data, "decision")
    decided_on = data.get("decided_on") or local_today()
    not_future("decided_on", decided_on, local_today())
    if decided_on < objection.raised_on:
        raise ValidationFailed.on("decided_on", BEFORE_OBJECTION)
    objection.status, objection.decision = data["status"], data["decision"].strip()
    objection.decided_on, objection.decided_by_id = decided_on, user_id
    audit(session, user_id, "decide", "objection", objection.id, {"status": "open"},
          {"status": objection.status, "decision": objection.decision, "decided_on": decided_on})
    session.commit()
    return objection
