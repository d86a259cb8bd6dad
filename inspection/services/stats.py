"""Pass-rate statistics by category x region x period, read from the series aggregate."""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache

from sqlalchemy import any_, bindparam, func, select
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from core.clock import local_today, month_end, month_of, parse_month, shift_month
from core.database import CUSTOM_PLAN
from core.errors import ValidationFailed
from core.messages import N_
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import PROVINCE, load_trees
from inspection.models import SeriesMonth
from inspection.services.rules import UNKNOWN_CATEGORY, known_region

BAD_PERIOD = N_("period must be one of %(periods)s")
BAD_BREAKDOWN = N_("breakdown must be one of %(breakdowns)s")
BAD_ORIGIN = N_("origin must be 'all' or 'local'")
FROM_AFTER_TO = N_("'from' is after 'to'")
TOO_MANY_MONTHS = N_("at most %(months)s months can be asked at once")

Z95 = 1.959963984540054
PERIODS = ("month", "quarter", "year")
BREAKDOWNS = ("none", "category", "region", "both")
MAX_MONTHS = 240


@lru_cache(maxsize=1 << 16)  # a pure function of counts that repeat from request to request
def wilson(successes: int, n: int, z: float = Z95) -> tuple[float | None, float | None]:
    """Wilson score interval for a proportion; (None, None) when there is no data."""
    if n <= 0:
        return None, None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # At 0 or n successes the bound is exactly p; rounding would otherwise leave it 1e-16 off.
    low = 0.0 if successes == 0 else max(0.0, centre - half)
    high = 1.0 if successes == n else min(1.0, centre + half)
    return low, high


@dataclass
class RateQuery:
    category: str | None = None
    region: str | None = None
    period: str = "month"
    from_month: str | None = None
    to_month: str | None = None
    breakdown: str = "none"
    origin: str = "all"


def _months(first: str, last: str) -> list[str]:
    (y, m), (y2, m2) = parse_month(first), parse_month(last)
    out = []
    while (y, m) <= (y2, m2):
        out.append(f"{y:04d}-{m:02d}")
        y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    return out


def period_of(month: str, period: str) -> str:
    if period == "month":
        return month
    year, m = month[:4], int(month[5:7])
    return year if period == "year" else f"{year}-Q{(m - 1) // 3 + 1}"


def period_end(label: str, period: str) -> date:
    year = int(label[:4])
    if period == "year":
        return date(year, 12, 31)
    if period == "quarter":
        return month_end(year, int(label[-1]) * 3)
    return month_end(year, int(label[5:7]))


def pass_rates(session: Session, q: RateQuery, scope: str | None = None) -> list[dict]:
    """Rows of batches, failures, pass rate, Wilson 95% interval and floor per node and period.

    A caller limited to a region subtree (`scope`) defaults to it and gets no rows outside it.
    """
    trees = load_trees(session)
    if q.period not in PERIODS:
        raise ValidationFailed.on("period", BAD_PERIOD(periods=PERIODS))
    if q.breakdown not in BREAKDOWNS:
        raise ValidationFailed.on("breakdown", BAD_BREAKDOWN(breakdowns=BREAKDOWNS))
    if q.origin not in ("all", "local"):
        raise ValidationFailed.on("origin", BAD_ORIGIN)
    category = q.category or ALL_PRODUCTS
    if category != ALL_PRODUCTS and category not in trees.categories:
        raise ValidationFailed.on("category", UNKNOWN_CATEGORY(code=category))
    region = known_region(trees, q.region or scope or PROVINCE)
    if scope is not None and region not in trees.regions.subtree(scope):
        return []
    to_month = q.to_month or month_of(local_today())
    for name, value in (("to", to_month), ("from", q.from_month)):
        if value is not None:
            try:
                parse_month(value)
            except ValueError as exc:
                raise ValidationFailed.on(name, str(exc)) from None
    from_month = q.from_month or shift_month(to_month, -11)  # default: twelve months
    if from_month > to_month:
        raise ValidationFailed.on("from", FROM_AFTER_TO)
    months = _months(from_month, to_month)
    if len(months) > MAX_MONTHS:
        raise ValidationFailed.on("from", TOO_MANY_MONTHS(months=MAX_MONTHS))

    if q.breakdown in ("category", "both"):
        categories = trees.categories.roots() if category == ALL_PRODUCTS else trees.categories.kids(category)
    else:
        categories = [category]
    regions = trees.regions.kids(region) if q.breakdown in ("region", "both") else [region]
    if not categories or not regions:
        return []

    params = {"categories": categories, "regions": regions, "first": from_month, "last": to_month}
    conn = session.connection()
    found = conn.execute(_totals(q.origin == "local", conn.dialect.name), params).all()  # one fetch
    if q.period == "month":  # one row per key already (grouped by month)
        totals = {(c, r, month): (int(batches or 0), int(failed or 0)) for c, r, month, batches, failed in found}
    else:
        totals = {}
        for c, r, month, batches, failed in found:
            t = totals.setdefault((c, r, period_of(month, q.period)), [0, 0])
            t[0] += int(batches or 0)
            t[1] += int(failed or 0)

    periods = list(dict.fromkeys(period_of(m, q.period) for m in months))
    ends = {p: period_end(p, q.period) for p in periods}
    rows = []
    for c in categories:
        floors = {p: trees.floors.effective(c, ends[p]) for p in periods}  # the same for every region
        for r in regions:
            for p in periods:
                batches, failed, rate, low, high, floor, gap, meets = _figures(*totals.get((c, r, p), (0, 0)),
                                                                               floors[p])
                # Keys in sorted order: the JSON answer (sorted keys) is written without sorting.
                rows.append({"batches": batches, "category": c, "ci_high": high, "ci_low": low, "failed": failed,
                             "floor": floor, "gap": gap, "meets_floor": meets, "pass_rate": rate, "period": p,
                             "region": r})
    return rows


@lru_cache(maxsize=4096)  # counts and floors repeat from row to row and request to request
def _figures(batches: int, failed: int, floor: float | None) -> tuple:
    """A row's figures: batches, failed, pass rate, interval low and high, floor, gap, meets floor."""
    rate = (batches - failed) / batches if batches else None
    low, high = wilson(batches - failed, batches)
    return (batches, failed, rate, low, high, floor, None if rate is None or floor is None else rate - floor,
            None if rate is None or floor is None else rate >= floor)


@cache
def _totals(local_only: bool, dialect: str):
    """Batches and failures per (category, region, month) of the asked nodes and months: one
    statement per database built once, read as plain rows, planned for its values each time (a
    generic plan filtered the regions instead of seeking them). On PostgreSQL each list is one
    array parameter (`= ANY`), so its SQL is the same every run; an expanding `IN` is rewritten
    for each execution (SQLite has no arrays)."""
    def one_of(column, name):
        if dialect == "postgresql":
            return column == any_(bindparam(name, type_=postgresql.ARRAY(column.type)))
        return column.in_(bindparam(name, expanding=True))

    stmt = (select(SeriesMonth.category_code, SeriesMonth.region_code, SeriesMonth.month,
                   func.sum(SeriesMonth.batches), func.sum(SeriesMonth.failed))
            .where(one_of(SeriesMonth.category_code, "categories"), one_of(SeriesMonth.region_code, "regions"),
                   SeriesMonth.month >= bindparam("first"), SeriesMonth.month <= bindparam("last"))
            .group_by(SeriesMonth.category_code, SeriesMonth.region_code, SeriesMonth.month)
            .execution_options(**CUSTOM_PLAN))
    return stmt.where(SeriesMonth.local.is_(True)) if local_only else stmt


RATE_COLUMNS = ("category", "region", "period", "batches", "failed", "pass_rate", "ci_low",
                "ci_high", "floor", "gap", "meets_floor")


def month_totals(session: Session, region: str | None, month: str) -> tuple[int, int]:
    """(batches, failed) of all products sampled in `region`'s subtree (None: the province) in
    `month`, from the aggregate (a landing page's figure, cheap at any size)."""
    row = session.execute(select(func.coalesce(func.sum(SeriesMonth.batches), 0),
                                 func.coalesce(func.sum(SeriesMonth.failed), 0))
                          .where(SeriesMonth.category_code == ALL_PRODUCTS,
                                 SeriesMonth.region_code == (region or PROVINCE),
                                 SeriesMonth.month == month)).one()
    return int(row[0]), int(row[1])
