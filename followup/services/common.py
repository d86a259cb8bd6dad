"""Helpers the follow-up use cases share: scope checks, failed batches, month arithmetic, pages."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from core.auth.permissions import Forbidden
from core.clock import month_end
from core.errors import Conflict, ValidationFailed
from core.reference.trees import load_trees
from inspection.models import Batch
from inspection.services.batches import get_batch


def add_months(day: date, months: int) -> date:
    """The same day `months` later, clamped to the month's end (30 Nov + 3 months = 28 Feb)."""
    year, month0 = divmod(day.year * 12 + day.month - 1 + months, 12)
    return date(year, month0 + 1, min(day.day, month_end(year, month0 + 1).day))


def region_codes(session: Session, region: str | None, scope: str | None) -> frozenset[str] | None:
    """The region codes a query may see: the filter's subtree within the caller's (None: all)."""
    trees = load_trees(session)
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


def check_writable(session: Session, region_code: str, scope: str | None) -> None:
    if not in_scope(session, region_code, scope):
        raise Forbidden(f"region {region_code} is outside your region {scope}",
                        {"region": [f"outside your region {scope}"]})


def failed_batch(session: Session, batch_id: int, scope: str | None) -> Batch:
    """The batch (404 outside the caller's region), which must be a failed, non-void batch (409)."""
    batch = get_batch(session, batch_id, scope)
    if batch.voided_at is not None or batch.conclusion != "fail":
        raise Conflict(f"batch {batch_id} is not a failed batch on record")
    return batch


def report_date(batch: Batch) -> date:
    return batch.reported_on or batch.sampled_on


def not_future(field: str, day: date | None, today: date) -> None:
    if day is not None and day > today:
        raise ValidationFailed.on(field, "may not be in the future")


def require_text(data: dict, *names: str) -> None:
    missing = [n for n in names if not (data.get(n) or "").strip()]
    if missing:
        raise ValidationFailed(f"{missing[0]} is required",
                               {n: ["required"] for n in missing})
