"""Helpers the follow-up use cases share: scope checks, failed batches, month arithmetic, pages."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.auth.permissions import outside_region
from core.clock import month_end
from core.errors import Conflict, ValidationFailed
from core.messages import N_
from core.reference.trees import load_trees
from inspection.models import Batch, Enterprise
from inspection.services.batches import get_batch
from inspection.services.rules import known_region

NOT_FAILED = N_("batch %(id)s is not a failed batch on record")
IN_FUTURE = N_("may not be in the future")
FIELD_REQUIRED = N_("%(field)s is required")
REQUIRED = N_("required")
# Statuses named inside messages, so a page can show them in its language.
STATUS_WORDS = {"open": N_("open"), "investigating": N_("investigating"), "action_taken": N_("action_taken"),
                "closed": N_("closed"), "cancelled": N_("cancelled"), "upheld": N_("upheld"),
                "rejected": N_("rejected"), "pass": N_("pass"), "fail": N_("fail"), "none": N_("none"),
                "recall": N_("recall"), "traceability": N_("traceability")}


def status_word(status: str | None):
    return STATUS_WORDS.get(status or "none", status)


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (30 Nov + 3 months = 28 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, month_end(year, month0 + 1).day))


def region_codes(session: Session, region: str | None, scope: str | None) -> frozenset[str] | None:
    """The region codes a query may see: the filter's subtree within the caller's (None: all).
    A filter code that is no region is refused (an empty list would read as "nothing there")."""
    trees = load_trees(session)
    if region:
        known_region(trees, region)
    allowed: frozenset[str] | None = None
    for code in (region, scope):
        if code:
            sub = trees.regions.subtree(code) if code in trees.regions else frozenset()
            allowed = sub if allowed is None else allowed & sub
    return allowed


def in_scope(session: Session, region_code: str, scope: str | None) -> bool:
    if scope is None:
        return True
    trees = load_trees(session)
    return region_code in trees.regions.subtree(scope)


def enterprise_in_scope(session: Session, enterprise: Enterprise, scope: str | None) -> bool:
    """Registered in the caller's region, or sampled there (a voided batch does not count: it was
    recorded by mistake). Reads of an enterprise's credit follow this; changing its blacklist
    entry is for the region it is registered in (check_writable on its region)."""
    if scope is None:
        return True
    codes = load_trees(session).regions.subtree(scope)
    if enterprise.region_code in codes:
        return True
    return session.scalar(select(Batch.id).where(Batch.enterprise_id == enterprise.id, Batch.voided_at.is_(None),
                                                 Batch.region_code.in_(codes)).limit(1)) is not None


def check_writable(session: Session, region_code: str, scope: str | None) -> None:
    if not in_scope(session, region_code, scope):
        raise outside_region(region_code, scope)


def failed_batch(session: Session, batch_id: int, scope: str | None) -> Batch:
    """The batch (404 outside the caller's region), which must be a failed, non-void batch (409)."""
    batch = get_batch(session, batch_id, scope)
    if batch.voided_at is not None or batch.conclusion != "fail":
        raise Conflict(NOT_FAILED(id=batch_id))
    return batch


def report_date(batch: Batch) -> date:
    return batch.reported_on or batch.sampled_on


def not_future(field: str, day: date | None, today: date) -> None:
    if day is not None and day > today:
        raise ValidationFailed.on(field, IN_FUTURE)


def require_text(data: dict, *names: str) -> None:
    missing = [n for n in names if not (data.get(n) or "").strip()]
    if missing:
        raise ValidationFailed(FIELD_REQUIRED(field=missing[0]), {n: [REQUIRED] for n in missing})
