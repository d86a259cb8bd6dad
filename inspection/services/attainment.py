"""The yearly target-attainment report (the policy's annual assessment) for a region.

For the region and each of its direct sub-regions: per top-level product category (and all
products together), the year's pass rate against the floor in force at year end, and the
change against the year before.
"""
from __future__ import annotations

from sqlalchemy.orm import Session

from core.errors import ValidationFailed
from core.messages import N_
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import PROVINCE, load_trees
from inspection.services.rules import known_region
from inspection.services.stats import RateQuery, pass_rates

FIRST_YEAR, LAST_YEAR = 2000, 2100
BAD_YEAR = N_("year must be between %(first)s and %(last)s")


def attainment_report(session: Session, year: int, region: str | None, scope: str | None) -> list[dict]:
    """Sections (one per region, the chosen one first) of rows per category; [] out of scope."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise ValidationFailed.on("year", BAD_YEAR(first=FIRST_YEAR, last=LAST_YEAR))
    trees = load_trees(session)
    region = known_region(trees, region or scope or PROVINCE)
    if scope is not None and region not in trees.regions.subtree(scope):
        return []
    span = {"period": "year", "from_month": f"{year - 1}-01", "to_month": f"{year}-12"}
    rows = []
    for breakdown_self, breakdown_kids in (("none", "region"), ("category", "both")):
        rows += pass_rates(session, RateQuery(region=region, breakdown=breakdown_self, **span), scope)
        rows += pass_rates(session, RateQuery(region=region, breakdown=breakdown_kids, **span), scope)
    by_key = {(r["region"], r["category"], r["period"]): r for r in rows}
    order = [region] + trees.regions.kids(region)
    categories = [ALL_PRODUCTS] + trees.categories.roots()
    sections = []
    for code in order:
        lines = []
        for category in categories:
            this, last = by_key.get((code, category, str(year))), by_key.get((code, category, str(year - 1)))
            if this is None:
                continue
            last_rate = last["pass_rate"] if last else None
            lines.append({**this, "last_pass_rate": last_rate,
                          "change": None if this["pass_rate"] is None or last_rate is None
                          else this["pass_rate"] - last_rate})
        sections.append({"region": code, "rows": lines,
                         "attained": sum(1 for r in lines if r["meets_floor"]),
                         "assessed": sum(1 for r in lines if r["meets_floor"] is not None)})
    return sections
