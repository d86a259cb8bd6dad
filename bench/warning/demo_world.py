"""The engine on the demo's data, without seeding a database: what a newcomer's scans would say.

    PYTHONPATH=. python -m bench.warning.demo_world [--back 9 6 3 0]

The demo CSV (`inspection.demo.demo_csv`, the same seed and end month as `flask demo seed` run
this month) is rolled up to every category x region node by the importer's own code
(`inspection.aggregates.spread`), and at each as-of month (`--back` months before the end
month) a risk model is trained on the history known then and the series assessed with it, as
`flask warning train` and `flask warning scan` would. Printed:
the levels, the planted drifts' levels and probabilities, how many series the classical
probability puts above 0.99 (and how many of those have at most one batch in a year), and the
record of the as-of months whose three following months are over (flagged yellow or above
against not flagged, the track record page's measure). About a minute; reference data comes
from a throwaway SQLite database migrated by Alembic.
"""
from __future__ import annotations

import argparse
import io
import os
import tempfile
import time

import numpy as np
import pandas as pd

from core.clock import local_today, month_end
from inspection.aggregates import spread
from inspection.demo import DRIFTS, _shift, demo_csv
from warning.engine import DEFAULT_SETTINGS as S
from warning.engine import assess, features
from warning.engine.levels import is_flag
from warning.engine.panel import panel_from_long
from warning.engine.risk import history_labels
from warning.engine.training import history_months, train_on_history

MONTHS, SEED = 36, 20261130  # as `flask demo seed`


def _reference_trees(tmp: str):
    from flask_migrate import upgrade

    from core.extensions import db
    from core.reference.seed import seed_reference
    from core.reference.trees import load_trees
    from factory import create_app

    app = create_app("development", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/reference.sqlite"})
    with app.app_context():
        upgrade()
        seed_reference(db.session)
        db.session.commit()
        return load_trees(db.session)


def demo_panel(trees, end: tuple[int, int]):
    """The demo's batches as a panel of every category x region node, months oldest first."""
    content, _ = demo_csv(trees, MONTHS, SEED, end)
    df = pd.read_csv(io.BytesIO(content), dtype=str, usecols=["sampled_on", "category", "region", "result"])
    df["month"] = df["sampled_on"].str[:7]
    g = (df.assign(failed=(df["result"] == "fail").astype(int))
         .groupby(["category", "region", "month"])["failed"].agg(["size", "sum"]).reset_index())
    # Rolled up the trees by the importer's own code (the rows of the series aggregate).
    rows = spread(trees, list(zip(g["category"], g["region"], g["month"], [False] * len(g))),
                  g["size"].tolist(), g["sum"].tolist())
    long = pd.DataFrame([(c, r, m, n, f) for c, r, m, _, n, f in rows],
                        columns=["category", "region", "month", "n", "failed"])
    on = month_end(*end)
    floors = {c: trees.floors.effective(c, on) for c in long["category"].unique()}
    months = [f"{y}-{m:02d}" for y, m in (_shift(*end, -k) for k in range(MONTHS - 1, -1, -1))]
    return panel_from_long(
        long, floors,
        lambda c: trees.categories.nodes[c].parent_code if c in trees.categories else None,
        lambda r: trees.regions.nodes[r].parent_code if r in trees.regions else None, months=months)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--back", type=int, nargs="+", default=[9, 6, 3, 0],
                    help="as-of months, in months before the demo's end month (scripts/demo.sh scans these)")
    args = ap.parse_args(argv)
    today = local_today()
    end = _shift(today.year, today.month, -1)  # as seed_demo on its first run this month
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        trees = _reference_trees(tmp)
    panel = demo_panel(trees, end)
    print(f"demo data to {end[0]}-{end[1]:02d}: {panel.S:,} series, {int(panel.n[:, -1].sum()):,} "
          f"batches in the last month ({time.perf_counter() - t0:.0f} s)")
    keys = list(zip(panel.keys["category"], panel.keys["region"]))
    drifts = [(d, keys.index((d["category"], d["region"]))) for d in DRIFTS]
    y = history_labels(panel.n, panel.failed, panel.keys["floor"].to_numpy(float), S.horizon,
                       alpha=S.label_alpha)
    record = {"flagged": [0, 0], "not flagged": [0, 0]}
    for back in args.back:
        at = panel.T - 1 - back
        model, summary = train_on_history(panel.upto(at, history_months(S)), S)
        window = panel.upto(at, S.window)
        out = assess(window, S, model)
        pcl = features(window, S)["p_classical"].to_numpy()
        thin = window.n[:, -12:].sum(1) <= 1
        level = out["level"].to_numpy()
        counts = pd.Series(level).value_counts().to_dict()
        print(f"\nas of {panel.months[at]} (model {summary.get('version', 'none: ' + summary.get('reason', ''))}): "
              f"{counts}; classical probability over 0.99: {(pcl > 0.99).sum():,} series "
              f"({(thin & (pcl > 0.99)).sum():,} with at most one batch in 12 months)")
        thresholds = (model.meta["thresholds"] if model is not None else S.thresholds)
        for d, i in drifts:
            band = out["band"].iloc[i]
            print(f"  planted drift {d['category']} {d['region']}: {level[i]}, probability "
                  f"{out['prob_below'].iloc[i]:.3f}, pass rate {out['pass_rate'].iloc[i]:.3f} "
                  f"(floor {out['floor'].iloc[i]:.2f}); {int(window.n[i, -3:].sum())} batches in 3 "
                  f"months, {int(window.n[i, -12:].sum())} in 12, band {band} (yellow from "
                  f"{thresholds.get(band, {}).get('yellow', float('nan')):.3f})")
        if back >= S.horizon:  # its outcome months are over
            ok = np.isfinite(y[:, at])
            for name, mask in (("flagged", is_flag(level) & ok), ("not flagged", ~is_flag(level) & ok)):
                record[name][0] += int(mask.sum())
                record[name][1] += int(y[mask, at].sum())
    print("\nrecord of the as-of months whose outcome months are over (fell below the floor: "
          f"failures beyond chance at alpha {S.label_alpha}):")
    for name, (n, fell) in record.items():
        print(f"  {name}: {fell:,} of {n:,} fell below ({fell / n:.1%})" if n else f"  {name}: none")
    falls = record["flagged"][1] + record["not flagged"][1]
    if falls:
        print(f"  falls flagged beforehand: {record['flagged'][1] / falls:.1%}")
    print(f"\ntotal {time.perf_counter() - t0:.0f} s (cpus {os.cpu_count()})")


if __name__ == "__main__":
    main()
