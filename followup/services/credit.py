"""Quality credit (质量信用): each enterprise's record and a score with a grade, from settings.

    score = 100 - failures - cases - overdue - retests, floored at 0, one decimal
    failures = sum over failed batches reported in the window (FOLLOWUP_CREDIT_WINDOW_MONTHS) of
               SEVERITY_WEIGHTS[severity] * 0.5 ** (age in days / HALF_LIFE_DAYS)
    cases    = sum of RECALL_WEIGHTS[level] over recalls + TRACEABILITY_WEIGHT per traceability case,
               opened in the window and not cancelled
    overdue  = OVERDUE_WEIGHT per failed batch whose disposal is overdue now
    retests  = RETEST_CONFIRMED_WEIGHT per retest that confirmed the failure

A failure's severity is the one recorded on its disposal (default general); a refusal of sampling
(fail_reason matching FOLLOWUP_REFUSAL_PATTERNS) counts as serious. Grades: A from GRADES["A"], B
from GRADES["B"], C from GRADES["C"], D below; a blacklisted enterprise is D whatever its score.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, lazyload

from core.clock import LOCAL_TZ, local_today
from followup.models import BlacklistEntry, Case, Disposal, Retest
from followup.services.common import add_months, region_codes
from followup.settings import FollowupSettings, load_settings
from inspection.models import Batch, Enterprise


@dataclass
class Failure:
    batch_id: int
    sample_no: str
    reported_on: date
    severity: str
    refused: bool
    disposal_closed: bool
    overdue: bool
    region_code: str = ""


@dataclass
class Facts:
    """What the credit record is built from, for one enterprise."""

    batches: int = 0
    failures: list[Failure] = field(default_factory=list)
    recalls: dict[str, int] = field(default_factory=dict)  # level -> cases
    traceability_cases: int = 0
    open_cases: int = 0
    retests: int = 0
    retests_confirmed: int = 0
    retests_passed: int = 0
    blacklisted: bool = False  # as it stood on the day the facts are read for


def is_refusal(fail_reason: str | None, settings: FollowupSettings) -> bool:
    text = (fail_reason or "").lower()
    return any(p.lower() in text for p in settings.refusal_patterns)


def load_facts(session: Session, enterprise_ids: Iterable[int], today: date | None = None,
               settings: FollowupSettings | None = None) -> dict[int, Facts]:
    """The credit facts of many enterprises in a few queries, as known on `today`: a plan for a
    past month (`sampling_plan`) reads the record as it stood then, not with later failures,
    closings, cases, cancellations, retest conclusions or blacklist changes."""
    settings, today = settings or load_settings(), today or local_today()
    ids = list(dict.fromkeys(enterprise_ids))
    facts: dict[int, Facts] = {i: Facts() for i in ids}
    if not ids:
        return facts
    since = add_months(today, -settings.credit_window_months)
    live = (Batch.enterprise_id.in_(ids), Batch.voided_at.is_(None))
    for eid, n in session.execute(select(Batch.enterprise_id, func.count())
                                  .where(*live, Batch.sampled_on >= since, Batch.sampled_on <= today)
                                  .group_by(Batch.enterprise_id)):
        facts[eid].batches = n
    # Columns, not entities: building a Batch and a Disposal per failure was most of a province's
    # sampling plan (2,855 objects, 0.4 s of its 0.7 s on the demo data).
    reported = func.coalesce(Batch.reported_on, Batch.sampled_on)
    rows = session.execute(select(Batch.id, Batch.enterprise_id, Batch.sample_no, reported, Batch.fail_reason,
                                  Batch.region_code, Disposal.batch_id, Disposal.severity, Disposal.status,
                                  Disposal.closed_on)
                           .outerjoin(Disposal, Disposal.batch_id == Batch.id)
                           .where(*live, Batch.conclusion == "fail", reported.between(since, today)))
    for batch_id, eid, sample_no, on, fail_reason, region, disposal, severity, status, closed_on in rows:
        refused = is_refusal(fail_reason, settings)
        severity = "serious" if refused else (severity if disposal is not None else "general")
        closed = disposal is not None and status == "closed" and (closed_on is None or closed_on <= today)
        overdue = not closed and add_months(on, settings.disposal_months) < today
        facts[eid].failures.append(Failure(batch_id, sample_no, on, severity, refused, closed, overdue, region))
    for f in facts.values():
        f.failures.sort(key=lambda x: (x.reported_on, x.batch_id), reverse=True)
    for case in session.scalars(select(Case).options(lazyload("*")).where(Case.enterprise_id.in_(ids))):
        target = facts[case.enterprise_id]
        opened = case.opened_at.astimezone(LOCAL_TZ).date()
        ended = case.closed_at.astimezone(LOCAL_TZ).date() if case.closed_at else None
        if opened > today or (case.status == "cancelled" and (ended is None or ended <= today)):
            continue  # not opened yet, or cancelled by then (a later cancellation was not known)
        if ended is None or ended > today:
            target.open_cases += 1
        if opened < since:
            continue
        if case.kind == "recall" and case.level:
            target.recalls[case.level] = target.recalls.get(case.level, 0) + 1
        elif case.kind == "traceability":
            target.traceability_cases += 1
    for eid, retest in session.execute(select(Batch.enterprise_id, Retest).options(lazyload("*"))
                                       .join(Batch, Batch.id == Retest.batch_id)
                                       .where(Batch.enterprise_id.in_(ids), Retest.applied_on <= today)):
        facts[eid].retests += 1
        concluded = retest.concluded_on is not None and retest.concluded_on <= today
        facts[eid].retests_confirmed += concluded and retest.conclusion == "fail"
        facts[eid].retests_passed += concluded and retest.conclusion == "pass"
    for eid, flag in _blacklisted_on(session, ids, today).items():
        facts[eid].blacklisted = flag
    return facts


def _blacklisted_on(session: Session, ids: list[int], today: date) -> dict[int, bool]:
    """Each enterprise's blacklist flag at the end of `today`, from its blacklist history: the
    last change made by then; before its first change, the opposite of that change; with no
    history at all, the flag as it is."""
    flags = dict(session.execute(select(Enterprise.id, Enterprise.blacklisted).where(Enterprise.id.in_(ids))).all())
    first: dict[int, str] = {}
    last: dict[int, str] = {}
    for eid, action, at in session.execute(select(BlacklistEntry.enterprise_id, BlacklistEntry.action, BlacklistEntry.at)
                                           .where(BlacklistEntry.enterprise_id.in_(ids))
                                           .order_by(BlacklistEntry.at, BlacklistEntry.id)):
        first.setdefault(eid, action)
        if at.astimezone(LOCAL_TZ).date() <= today:
            last[eid] = action
    for eid in first:
        flags[eid] = (last[eid] == "add") if eid in last else first[eid] != "add"
    return flags


def grade_of(score: float, blacklisted: bool, settings: FollowupSettings) -> str:
    if blacklisted:
        return "D"
    for grade in ("A", "B", "C"):
        if score >= settings.credit_grades[grade]:
            return grade
    return "D"


def score(facts: Facts, blacklisted: bool, today: date, settings: FollowupSettings) -> dict[str, Any]:
    """The score, its grade and the penalty of each component (pure)."""
    failures = sum(settings.credit_severity_weights[f.severity] * 0.5 ** ((today - f.reported_on).days /
                                                                          settings.credit_half_life_days)
                   for f in facts.failures)
    cases = (sum(settings.credit_recall_weights[level] * n for level, n in facts.recalls.items())
             + settings.credit_traceability_weight * facts.traceability_cases)
    overdue = settings.credit_overdue_weight * sum(f.overdue for f in facts.failures)
    retests = settings.credit_retest_confirmed_weight * facts.retests_confirmed
    value = round(max(0.0, 100.0 - failures - cases - overdue - retests), 1)
    return {"score": value, "grade": grade_of(value, blacklisted, settings),
            "penalties": {"failures": round(failures, 2), "cases": round(cases, 2), "overdue": round(overdue, 2),
                          "retests": round(retests, 2)}}


def credit_record(session: Session, enterprise: Enterprise, scope: str | None,
                  today: date | None = None) -> dict[str, Any]:
    """An enterprise's quality-credit record: the facts, the score and grade, its blacklist history.

    The counts and the score cover the enterprise province-wide (credit is one record); the
    failures listed by sample number are only those sampled in the caller's region, as every
    other batch read."""
    from followup.services.blacklist import history

    settings, today = load_settings(), today or local_today()
    facts = load_facts(session, [enterprise.id], today, settings)[enterprise.id]
    visible = region_codes(session, None, scope)
    scored = score(facts, facts.blacklisted, today, settings)
    # What the score alone gives, so a page can say that a blacklisted enterprise is D for that.
    scored["grade_by_score"] = grade_of(scored["score"], False, settings)
    return {"enterprise": enterprise, "as_of": today, "window_months": settings.credit_window_months,
            "batches": facts.batches, "failed": len(facts.failures),
            "serious_failures": sum(f.severity == "serious" for f in facts.failures),
            "overdue_disposals": sum(f.overdue for f in facts.failures),
            "failures": [f for f in facts.failures if visible is None or f.region_code in visible],
            "recalls": facts.recalls, "traceability_cases": facts.traceability_cases,
            "open_cases": facts.open_cases, "retests": facts.retests, "retests_confirmed": facts.retests_confirmed,
            "retests_passed": facts.retests_passed, **scored,
            "blacklist_history": history(session, enterprise.id)}
