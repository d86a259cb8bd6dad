"""The early-warning backtest: assess every series as the system would have at the end of
each month of a range, and report the series at blue or above.

"As the system would have" at month M:

* a batch counts only if it was known by the end of M: its `reported_on`, or where that is
  empty its `sampled_on`, is on or before `month_end(M)`; voided batches never count (the
  void is the current state; a batch voided later is treated as never having existed);
* a batch counts in its sampled month, in every ancestor series (category ancestors up to
  `*` x region ancestors up to the province), like the SeriesMonth aggregate a scan reads;
* the floor in force at `month_end(M)` applies;
* the engine is fitted on that panel alone, and the risk model is trained on the history as
  known at the end of M (`training.train_on_history` on the batches known then; label months
  end H months before M); with too short a history the month is assessed classically.

The backtest is pure reading: it loads the batches once (five columns), works in memory and
writes nothing to the database.

CSV: UTF-8, a header, columns `as_of, category, region, level, probability, rate, reason`,
sorted by as_of, category, region. `probability` is the probability of falling below the
floor within the horizon (the scan's `probability`), `rate` the assessed current pass rate,
both with 4 decimals; `reason` is the English plain-language reason (`reason_en`).
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date

import numpy as np
import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import month_end, parse_month
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import Trees, load_trees
from inspection.models import Batch
from warning.engine import DEFAULT_SETTINGS, Settings, assess, panel_from_long
from warning.engine.training import history_months, train_on_history

COLUMNS = ("as_of", "category", "region", "level", "probability", "rate", "reason")
REPORTED_LEVELS = ("blue", "yellow", "orange", "red")


def month_index(month: str) -> int:
    year, m = parse_month(month)
    return year * 12 + m - 1


def month_label(i: int) -> str:
    return f"{i // 12:04d}-{i % 12 + 1:02d}"


def _index_of_dates(values) -> np.ndarray:
    d = pd.to_datetime(pd.Series(values))
    return (d.dt.year * 12 + d.dt.month - 1).to_numpy(np.int64)


def load_batches(session: Session) -> pd.DataFrame:
    """Every non-voided batch: category, region, sampled_on, known_on, failed."""
    rows = session.execute(
        select(Batch.category_code, Batch.region_code, Batch.sampled_on, Batch.reported_on,
               Batch.conclusion).where(Batch.voided_at.is_(None))).all()
    frame = pd.DataFrame(rows, columns=["category", "region", "sampled_on", "reported_on", "conclusion"])
    known = frame["reported_on"].where(frame["reported_on"].notna(), frame["sampled_on"])
    return pd.DataFrame({"category": frame["category"].astype(object),
                         "region": frame["region"].astype(object),
                         "sampled_on": frame["sampled_on"], "known_on": known,
                         "failed": (frame["conclusion"] == "fail").to_numpy(bool)})


class Expanded:
    """Batch counts per (ancestor category, ancestor region, sampled month, known month).

    Built once from the batch frame; `counts_known_at(month)` then answers any month by a
    filter and a group-by. A batch known in month K counts at every month M >= K."""

    def __init__(self, batches: pd.DataFrame, trees: Trees):
        if batches.empty:
            self.frame = pd.DataFrame({"category": pd.Series(dtype=object), "region": pd.Series(dtype=object),
                                       "month_i": pd.Series(dtype=np.int64), "known_i": pd.Series(dtype=np.int64),
                                       "n": pd.Series(dtype=float), "failed": pd.Series(dtype=float)})
            return
        month_i = _index_of_dates(batches["sampled_on"])
        # Known at the end of a month = known on or before month_end: compare month indices.
        known_i = np.maximum(_index_of_dates(batches["known_on"]), month_i)
        cat_id, cats = pd.factorize(batches["category"].to_numpy(object))
        reg_id, regs = pd.factorize(batches["region"].to_numpy(object))
        base = pd.DataFrame({"c": cat_id, "r": reg_id, "m": month_i, "k": known_i,
                             "n": 1.0, "failed": batches["failed"].to_numpy(float)})
        base = base.groupby(["c", "r", "m", "k"], as_index=False, sort=False)[["n", "failed"]].sum()

        def ancestors(tree, code, extra=()):
            return (tree.ancestors(code) if code in tree else (code,)) + extra

        cat_anc = pd.DataFrame(
            [(i, a) for i, c in enumerate(cats)
             for a in dict.fromkeys(ancestors(trees.categories, c, (ALL_PRODUCTS,)))],
            columns=["c", "category"])
        reg_anc = pd.DataFrame(
            [(i, a) for i, r in enumerate(regs) for a in ancestors(trees.regions, r)],
            columns=["r", "region"])
        wide = base.merge(cat_anc, on="c").merge(reg_anc, on="r")
        self.frame = (wide.groupby(["category", "region", "m", "k"], as_index=False, sort=False)
                      [["n", "failed"]].sum()
                      .rename(columns={"m": "month_i", "k": "known_i"}))

    def counts_known_at(self, month: str, window: int = DEFAULT_SETTINGS.window) -> pd.DataFrame:
        """The long frame (category, region, month, n, failed) a scan as of `month` would have
        read, counting only batches known by the end of `month`, sampled in the `window`
        months ending `month`."""
        mi = month_index(month)
        f = self.frame
        sel = f[(f["known_i"] <= mi) & (f["month_i"] <= mi) & (f["month_i"] > mi - window)]
        out = sel.groupby(["category", "region", "month_i"], as_index=False, sort=False)[["n", "failed"]].sum()
        out = out[out["n"] > 0]
        return pd.DataFrame({"category": out["category"].to_numpy(object),
                             "region": out["region"].to_numpy(object),
                             "month": [month_label(int(i)) for i in out["month_i"]],
                             "n": out["n"].to_numpy(float), "failed": out["failed"].to_numpy(float)})


def floors_at(trees: Trees, categories: Iterable[str], month: str) -> dict[str, float | None]:
    """The floor in force at the end of `month` for each category code."""
    on: date = month_end(*parse_month(month))
    return {c: trees.floors.effective(c, on) for c in categories}


def panel_at(expanded: Expanded, trees: Trees, month: str, months_back: int):
    """The panel of the `months_back` months to `month`, with what was known then (None if
    empty)."""
    frame = expanded.counts_known_at(month, months_back)
    floors = floors_at(trees, frame["category"].unique(), month)
    frame = frame[frame["category"].map(lambda c: floors[c] is not None)]
    if frame.empty:
        return None
    months = [month_label(month_index(month) + k) for k in range(-(months_back - 1), 1)]
    return panel_from_long(
        frame, floors,
        cat_parent=lambda c: (trees.categories.nodes[c].parent_code if c in trees.categories else None),
        region_parent=lambda r: (trees.regions.nodes[r].parent_code if r in trees.regions else None),
        months=months)


def assess_at(expanded: Expanded, trees: Trees, month: str,
              settings: Settings = DEFAULT_SETTINGS, with_model: bool = True) -> pd.DataFrame:
    """Every series assessed as of `month` with what was known then (empty frame if none),
    the risk model trained on the history known then."""
    panel = panel_at(expanded, trees, month, settings.window)
    if panel is None:
        return pd.DataFrame(columns=["category", "region", "floor", "pass_rate", "prob_below",
                                     "level", "reason_en"])
    model = None
    if with_model:
        history = panel_at(expanded, trees, month, history_months(settings))
        model, _ = train_on_history(history, settings)
    return assess(panel, settings, model, reasons_lang=("en",))


def backtest_rows(batches: pd.DataFrame, trees: Trees, first: str, last: str,
                  settings: Settings = DEFAULT_SETTINGS) -> list[dict]:
    """The backtest over an in-memory batch frame (see `load_batches` for its columns)."""
    lo, hi = month_index(first), month_index(last)
    if lo > hi:
        raise ValueError(f"--from {first} is after --to {last}")
    expanded = Expanded(batches, trees)
    out: list[dict] = []
    for mi in range(lo, hi + 1):
        month = month_label(mi)
        result = assess_at(expanded, trees, month, settings)
        flagged = result[result["level"].isin(REPORTED_LEVELS)]
        for row in flagged.itertuples(index=False):
            out.append({"as_of": month, "category": row.category, "region": row.region,
                        "level": str(row.level), "probability": float(row.prob_below),
                        "rate": float(row.pass_rate), "reason": str(row.reason_en)})
    out.sort(key=lambda r: (r["as_of"], r["category"], r["region"]))
    return out


def run_backtest(session: Session, first: str, last: str,
                 settings: Settings = DEFAULT_SETTINGS) -> list[dict]:
    """Read the batches and the reference data once; write nothing."""
    month_index(first), month_index(last)  # validate before reading anything
    return backtest_rows(load_batches(session), load_trees(session), first, last, settings)


def write_csv(rows: list[dict], path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow([r["as_of"], r["category"], r["region"], r["level"],
                             f"{r['probability']:.4f}", f"{r['rate']:.4f}", r["reason"]])
