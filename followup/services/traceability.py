"""Traceability view of a failed batch: the producer's other batches in every region, the same
product and lot, the producer's failure history, retests, cases and blacklist changes, on one timeline.

The batch itself must lie in the caller's region; what is shown about its producer crosses regions
on purpose (tracing a lot stops at no county border).
"""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import LOCAL_TZ
from followup.models import BlacklistEntry, Case, Retest
from followup.services.common import failed_batch
from inspection.models import Batch

MAX_BATCHES = 500


def _producer_clause(batch: Batch):
    if batch.enterprise_id is not None:
        return Batch.enterprise_id == batch.enterprise_id
    return Batch.producer_name == batch.producer_name if batch.producer_name else None


def trace_batch(session: Session, batch_id: int, scope: str | None) -> dict[str, Any]:
    """Everything known about a failed batch's producer, product and lot."""
    batch = failed_batch(session, batch_id, scope)
    same_producer: list[Batch] = []
    clause = _producer_clause(batch)
    if clause is not None:
        same_producer = list(session.scalars(
            select(Batch).where(clause, Batch.id != batch.id, Batch.voided_at.is_(None))
            .order_by(Batch.sampled_on.desc(), Batch.id.desc()).limit(MAX_BATCHES)))
    same_lot = [b for b in same_producer if batch.lot and b.lot == batch.lot and b.product == batch.product]
    failures = [b for b in [batch, *same_producer] if b.conclusion == "fail"]
    failures.sort(key=lambda b: (b.sampled_on, b.id), reverse=True)
    cases: list[Case] = []
    blacklist: list[BlacklistEntry] = []
    if batch.enterprise_id is not None:
        cases = list(session.scalars(select(Case).where(Case.enterprise_id == batch.enterprise_id)
                                     .order_by(Case.opened_at.desc())))
        blacklist = list(session.scalars(select(BlacklistEntry).where(BlacklistEntry.enterprise_id ==
                                                                      batch.enterprise_id)
                                         .order_by(BlacklistEntry.id)))
    failure_ids = [b.id for b in failures]
    retests = list(session.scalars(select(Retest).where(Retest.batch_id.in_(failure_ids)))) if failure_ids else []
    return {
        "batch": batch,
        "enterprise": batch.enterprise,
        "same_producer": same_producer,
        "same_lot": same_lot,
        "failures": failures,
        "open_cases": [c for c in cases if c.status not in ("closed", "cancelled")],
        "timeline": _timeline(batch, same_producer, cases, retests, blacklist),
    }


def _timeline(batch: Batch, others: list[Batch], cases: list[Case], retests: list[Retest],
              blacklist: list[BlacklistEntry]) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for b in [batch, *others]:
        label = f"{b.sample_no} {b.product or ''} {b.lot or ''}".strip()
        events.append({"on": b.sampled_on, "kind": "failed" if b.conclusion == "fail" else "sampled",
                       "ref": f"batch:{b.id}", "region": b.region_code, "text": label})
    for r in retests:
        events.append({"on": r.applied_on, "kind": "retest_applied", "ref": f"retest:{r.id}",
                       "region": None, "text": f"batch {r.batch_id} at {r.laboratory}"})
        if r.concluded_on:
            events.append({"on": r.concluded_on, "kind": f"retest_{r.conclusion}", "ref": f"retest:{r.id}",
                           "region": None, "text": f"batch {r.batch_id}"})
    for c in cases:
        events.append({"on": c.opened_at.astimezone(LOCAL_TZ).date(), "kind": f"{c.kind}_opened",
                       "ref": f"case:{c.id}", "region": c.region_code, "text": c.title})
        if c.closed_at:
            events.append({"on": c.closed_at.astimezone(LOCAL_TZ).date(), "kind": f"case_{c.status}",
                           "ref": f"case:{c.id}", "region": c.region_code, "text": c.outcome or c.cancel_reason})
    for e in blacklist:
        events.append({"on": e.at.astimezone(LOCAL_TZ).date(), "kind": "blacklisted" if e.action == "add"
                       else "blacklist_removed", "ref": f"blacklist:{e.id}", "region": None, "text": e.reason})
    events.sort(key=lambda e: (e["on"], e["kind"], e["ref"]))
    return events
