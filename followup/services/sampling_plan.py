"""Risk-based sampling plan (分类监管): where to sample in a month, ranked, with the reason for each line.

Two kinds of line, ranked together by score:
- a series (leaf category x county) scores WEIGHTS["warning"] x (level weight + probability) / 2,
  from the latest assessment (level weight: none 0, blue 0.25, yellow 0.5, orange 0.75, red 1;
  probability: of falling below the floor within the horizon), + WEIGHTS["uncertainty"] x thinness,
  where thinness is max(0, 1 - batches in the 12 months to the scan's month / FOLLOWUP_PLAN_THIN_BATCHES);
- an enterprise with credit grade C or D (or blacklisted) scores WEIGHTS["credit"] x (100 - score) / 100
  (a blacklisted one at least WEIGHTS["credit"]).
The assessments are those of the latest finished scan as of the month before the plan's month (or
earlier); the batches are counted over the 12 months to that scan's month, the data it assessed,
so a plan made early in a month neither counts that month's first batches nor drops a month the
scan still weighed.
"""
from __future__ import annotations

from collections import defaultdict
from functools import partial
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from core.clock import local_today, month_end, month_of, parse_month, shift_month
from core.errors import ValidationFailed
from core.messages import N_
from core.reference.trees import load_trees
from followup.models import BlacklistEntry
from followup.services.common import add_months, region_codes
from followup.services.credit import load_facts, score
from followup.settings import load_settings
from inspection.models import Batch, Enterprise, SeriesMonth
from warning.models import Assessment, Scan

COUNTY = 3
LEVEL_WEIGHTS = {"none": 0.0, "blue": 0.25, "yellow": 0.5, "orange": 0.75, "red": 1.0}
LEVEL_WORDS = {"blue": N_("blue"), "yellow": N_("yellow"), "orange": N_("orange"), "red": N_("red")}
# The assessment's pass rate is the engine's estimate (recent months weighted, pooled with the
# parent series), not a count: a series with 0 or 1 batch of its own still has one. Named so.
WARNED = N_("warning level %(level)s: probability %(probability)s of falling below the floor %(floor)s "
            "(estimated pass rate %(rate)s, pooled with related series)")
AT_RISK = N_("probability %(probability)s of falling below the floor %(floor)s")
THIN = N_("thin series: batches in the 12 months to %(month)s: %(n)s (fewer than %(least)s)")
LOW_CREDIT = N_("credit grade %(grade)s (score %(score)s): %(failures)s failures in %(months)s months")
BLACKLISTED = N_("blacklisted")
# Beyond next month there is no data behind a plan: its credit would be scored on a record
# months away and its series on a scan not run yet.
TOO_LATE = N_("a plan is drawn up for next month (%(latest)s) at the latest")


def _latest_scan(session: Session, as_of: str) -> Scan | None:
    return session.scalar(select(Scan).where(Scan.status == "done", Scan.as_of <= as_of)
                          .order_by(Scan.as_of.desc(), Scan.id.desc()).limit(1))


def _series_lines(session: Session, as_of: str, scan: Scan | None,
                  codes: frozenset[str] | None) -> list[dict[str, Any]]:
    settings, trees = load_settings(), load_trees(session)
    weights = settings.plan_weights
    counties = {c for c, n in trees.regions.nodes.items() if n.level == COUNTY and (codes is None or c in codes)}
    leaves = {c for c in trees.categories.nodes if not trees.categories.kids(c)}
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for cat, region, n in session.execute(
            select(SeriesMonth.category_code, SeriesMonth.region_code, func.sum(SeriesMonth.batches))
            .where(SeriesMonth.month > shift_month(as_of, -12), SeriesMonth.month <= as_of,
                   SeriesMonth.category_code.in_(leaves), SeriesMonth.region_code.in_(counties))
            .group_by(SeriesMonth.category_code, SeriesMonth.region_code)):
        counts[(cat, region)] = int(n or 0)
    assessed: dict[tuple[str, str], Any] = {}
    if scan is not None:  # plain rows: the ORM objects carry JSON forecasts the plan does not need
        for a in session.execute(select(Assessment.category_code, Assessment.region_code, Assessment.level,
                                        Assessment.probability, Assessment.floor, Assessment.pass_rate)
                                 .where(Assessment.scan_id == scan.id, Assessment.region_code.in_(counties))):
            if a.category_code in leaves:
                assessed[(a.category_code, a.region_code)] = a
    lines = []
    for key in set(counts) | set(assessed):
        a, n = assessed.get(key), counts.get(key, 0)
        warning = weights["warning"] * (LEVEL_WEIGHTS.get(a.level, 0.0) + a.probability) / 2 if a else 0.0
        thin = max(0.0, 1.0 - n / settings.plan_thin_batches)
        uncertainty = weights["uncertainty"] * thin
        warned = a is not None and (a.level != "none" or a.probability >= 0.05)
        if not (warned or thin > 0):
            continue
        lines.append({"kind": "series", "category": key[0], "region": key[1], "enterprise": None,
                      "level": a.level if a else None, "score": round(warning + uncertainty, 4),
                      "components": {"warning": round(warning, 4), "uncertainty": round(uncertainty, 4),
                                     "credit": 0.0},
                      "reasons": partial(_series_reasons, a, n, thin, as_of, settings.plan_thin_batches)})
    return lines


def _series_reasons(a, n: int, thin: float, as_of: str, least: int) -> list:
    reasons = []
    if a is not None and a.level != "none":
        reasons.append(WARNED(level=LEVEL_WORDS.get(a.level, a.level), probability=f"{a.probability:.0%}",
                              floor=f"{a.floor:.0%}", rate=f"{a.pass_rate:.1%}"))
    elif a is not None and a.probability >= 0.05:
        reasons.append(AT_RISK(probability=f"{a.probability:.0%}", floor=f"{a.floor:.0%}"))
    if thin > 0:
        reasons.append(THIN(n=n, month=as_of, least=least))
    return reasons


def _enterprise_lines(session: Session, as_of: str, codes: frozenset[str] | None) -> list[dict[str, Any]]:
    settings = load_settings()
    today = month_end(*parse_month(as_of))
    since = add_months(today, -settings.credit_window_months)
    failing = select(Batch.enterprise_id).where(Batch.conclusion == "fail", Batch.voided_at.is_(None),
                                                Batch.sampled_on >= since, Batch.sampled_on <= today)
    listed = select(BlacklistEntry.enterprise_id)  # blacklisted then, if not now
    stmt = select(Enterprise).where(or_(Enterprise.blacklisted.is_(True), Enterprise.id.in_(failing),
                                        Enterprise.id.in_(listed)))
    if codes is not None:
        stmt = stmt.where(Enterprise.region_code.in_(codes))
    enterprises = list(session.scalars(stmt))
    facts = load_facts(session, [e.id for e in enterprises], today, settings)
    lines = []
    for e in enterprises:
        blacklisted = facts[e.id].blacklisted
        credit = score(facts[e.id], blacklisted, today, settings)
        if credit["grade"] not in ("C", "D"):
            continue
        weight = settings.plan_weights["credit"] * max((100 - credit["score"]) / 100, 1.0 if blacklisted else 0.0)
        reasons = [LOW_CREDIT(grade=credit["grade"], score=credit["score"], failures=len(facts[e.id].failures),
                              months=settings.credit_window_months)]
        if blacklisted:
            reasons.append(BLACKLISTED)
        lines.append({"kind": "enterprise", "category": None, "region": e.region_code, "enterprise": e,
                      "level": None, "score": round(weight, 4),
                      "components": {"warning": 0.0, "uncertainty": 0.0, "credit": round(weight, 4)},
                      "reasons": reasons})
    return lines


def next_plan_month() -> str:
    return shift_month(month_of(local_today()), 1)


def sampling_plan(session: Session, month: str | None, region: str | None, scope: str | None,
                  limit: int = 100, offset: int = 0) -> dict[str, Any]:
    """The ranked plan for `month` (default: next month) within the caller's region."""
    latest = next_plan_month()
    month = month or latest
    if month > latest:
        raise ValidationFailed.on("month", TOO_LATE(latest=latest))
    as_of = shift_month(month, -1)
    codes = region_codes(session, region, scope)
    scan = _latest_scan(session, as_of)
    basis = scan.as_of if scan else as_of
    lines = _series_lines(session, basis, scan, codes) + _enterprise_lines(session, as_of, codes)
    lines.sort(key=lambda line: (-line["score"], line["kind"], line["region"] or "", line["category"] or "",
                                 line["enterprise"].id if line["enterprise"] else 0))
    for rank, line in enumerate(lines, 1):
        line["rank"] = rank
    page = lines[offset:offset + limit]
    for line in page:  # the words only for the lines shown (a province has about 10,000)
        if callable(line["reasons"]):
            line["reasons"] = line["reasons"]()
    return {"month": month, "as_of": as_of, "scan_id": scan.id if scan else None,
            "scan_as_of": scan.as_of if scan else None, "total": len(lines),
            "lines": page}

