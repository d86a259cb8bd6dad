"""How past warnings turned out, so that supervisors can judge the current ones by the record.

For each finished scan whose forecast months are over (the latest scan of each as-of month, a
backfill included: it recorded what the system would have said then), every assessed series in
the caller's region is followed into the next `horizon` months of batches and counted as
"fell below the floor" by the risk model's own label (`risk.history_labels`): the failures
in those months are beyond chance at the floor (one-sided, the scan's `label_alpha`). Series with
no batch in those months are left out. By level: how many, how many fell below; flagged
(yellow and above): the share that fell below (how often an alert was borne out), and the share
of all the falls below that had been flagged beforehand.
"""
from __future__ import annotations

import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.clock import shift_month
from core.reference.trees import load_trees
from inspection.models import SeriesMonth
from warning.engine import DEFAULT_SETTINGS
from warning.engine.levels import LEVELS, is_flag, own_below_p
from warning.models import Assessment, Scan


def _scans(session: Session, last_month: str, limit: int) -> list[tuple[str, dict, int]]:
    """(as_of, settings, scan id) of the latest finished scan of each as-of month whose horizon
    ended by `last_month`, newest first."""
    out: dict[str, tuple[str, dict, int]] = {}
    rows = session.execute(select(Scan.as_of, Scan.settings, Scan.id).where(Scan.status == "done")
                           .order_by(Scan.as_of.desc(), Scan.id.desc()))
    for as_of, settings, scan_id in rows:
        horizon = int((settings or {}).get("horizon") or DEFAULT_SETTINGS.horizon)
        if as_of in out or shift_month(as_of, horizon) > last_month:
            continue
        out[as_of] = (as_of, settings or {}, scan_id)
        if len(out) == limit:
            break
    return list(out.values())


def _frame(session: Session, stmt, columns: list[str]) -> pd.DataFrame:
    # Plain tuples: pandas probes each SQLAlchemy Row for attributes (hasattr) before reading it
    # as a sequence, which was half the page's second (10,000 rows a scan, 12 scans).
    return pd.DataFrame([tuple(row) for row in session.connection().execute(stmt)], columns=columns)


def _outcomes(session: Session, as_of: str, horizon: int, regions) -> pd.DataFrame:
    months = [shift_month(as_of, k) for k in range(1, horizon + 1)]
    q = (select(SeriesMonth.category_code, SeriesMonth.region_code,
                func.sum(SeriesMonth.batches), func.sum(SeriesMonth.failed))
         .where(SeriesMonth.month.in_(months)).group_by(SeriesMonth.category_code, SeriesMonth.region_code))
    if regions is not None:
        q = q.where(SeriesMonth.region_code.in_(regions))
    return _frame(session, q, ["category", "region", "n", "f"])


def track_record(session: Session, scope: str | None, last_month: str, scans: int = 12) -> dict:
    """The record of the last `scans` scans whose horizon ended by `last_month` (normally the
    last complete month), within the region subtree `scope` (None: everywhere)."""
    regions = sorted(load_trees(session).regions.subtree(scope)) if scope else None
    by_level = {lv: [0, 0] for lv in LEVELS}  # level: [series with an outcome, fell below]
    covered = []
    for as_of, settings, scan_id in _scans(session, last_month, scans):
        horizon = int(settings.get("horizon") or DEFAULT_SETTINGS.horizon)
        alpha = float(settings.get("label_alpha") or DEFAULT_SETTINGS.label_alpha)
        q = select(Assessment.category_code, Assessment.region_code, Assessment.floor,
                   Assessment.level).where(Assessment.scan_id == scan_id)
        if regions is not None:
            q = q.where(Assessment.region_code.in_(regions))
        assessed = _frame(session, q, ["category", "region", "floor", "level"])
        merged = assessed.merge(_outcomes(session, as_of, horizon, regions), on=["category", "region"])
        # Sums come as Decimal on PostgreSQL, and an empty frame has no numeric dtype: floats.
        n, f, floor = (merged[c].to_numpy(float) for c in ("n", "f", "floor"))
        seen = n > 0
        fell = own_below_p(n[seen], f[seen], floor[seen]) <= alpha
        levels = merged["level"].to_numpy()[seen]
        for lv in LEVELS:
            at = levels == lv
            by_level[lv][0] += int(at.sum())
            by_level[lv][1] += int(fell[at].sum())
        covered.append({"as_of": as_of, "horizon": horizon, "series": int(seen.sum()),
                        "fell_below": int(fell.sum())})
    flagged = [lv for lv in LEVELS if is_flag([lv])[0]]
    n_flag = sum(by_level[lv][0] for lv in flagged)
    k_flag = sum(by_level[lv][1] for lv in flagged)
    k_all = sum(k for _, k in by_level.values())
    n_calm = by_level["none"][0] + by_level["blue"][0]
    k_calm = by_level["none"][1] + by_level["blue"][1]
    return {
        "scans": covered,
        "levels": [{"level": lv, "series": n, "fell_below": k, "share": k / n if n else None}
                   for lv, (n, k) in by_level.items()],
        "flagged": {"series": n_flag, "fell_below": k_flag, "share": k_flag / n_flag if n_flag else None},
        "not_flagged": {"series": n_calm, "fell_below": k_calm, "share": k_calm / n_calm if n_calm else None},
        "falls_flagged_before": k_flag / k_all if k_all else None,
    }

