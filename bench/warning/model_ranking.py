"""Ranking power of risk-model variants, inside the tuning seeds only.

    WARNING_EVAL_CACHE=/tmp/warn_eval_cache PYTHONPATH=. python -m bench.warning.model_ranking [VARIANT ...]

Each variant is trained on tuning seeds 1-10 (history labels, the rows `subsample_negatives`
keeps) and scores seeds 11-15; thresholds by band are then tuned on 11-15 themselves to 5
false-alarm episodes per 100 series-years. That threshold is an oracle, so the figure is not a
result to report: it compares how well the variants *rank* series-months, the thing training
choices change, at one model fit per variant instead of a full evaluation. Printed: crossings
flagged by the crossing month, sudden drops within 2 months, by band, and the fit's seconds.
The report seeds are never read.
"""
from __future__ import annotations

import sys
import time

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.ensemble import HistGradientBoostingClassifier

from bench.warning import evaluate as ev
from bench.warning.scenarios import TUNING_SEEDS
from warning.engine.risk import FEATURES, RiskModel, subsample_negatives

FIT, HELD = TUNING_SEEDS[:10], TUNING_SEEDS[10:]
BOOSTING = dict(max_iter=80, learning_rate=0.15, max_leaf_nodes=31, min_samples_leaf=100,
                l2_regularization=1.0, random_state=0)  # risk.RiskModel's


def boosted(folds: int = 3, method: str = "isotonic", **kw):
    return lambda: CalibratedClassifierCV(HistGradientBoostingClassifier(**{**BOOSTING, **kw}),
                                          method=method, cv=folds)


# name: (estimator factory, training rows at most)
VARIANTS = {
    "before": (boosted(folds=2), 120_000),
    "rows360k": (boosted(folds=2), 360_000),
    "rows1m": (boosted(folds=2), 1_000_000),
    "rows2m": (boosted(folds=2), 2_000_000),
    "longer": (boosted(folds=2, max_iter=300, learning_rate=0.05), 120_000),
    "uncalibrated": (lambda: HistGradientBoostingClassifier(**BOOSTING), 120_000),
    "sigmoid_rows1m": (boosted(folds=2, method="sigmoid"), 1_000_000),
    "shipped": (boosted(folds=3), 1_000_000),  # settings.train_max_rows, RiskModel._make
}


def main(names: list[str]) -> None:
    fit, held = ev._load(FIT, 2), ev._load(HELD, 2)
    Xs, ys = zip(*[ev._xy(d, "history") for d in fit])
    X, y = np.concatenate(Xs), np.concatenate(ys).astype(int)
    print(f"training pool: {len(y):,} series-months, {int(y.sum()):,} followed by a crossing")
    for name in names:
        make, max_rows = VARIANTS[name]
        t0 = time.perf_counter()
        rows, weight = subsample_negatives(y, max_rows, 0)
        model = RiskModel()
        model._make = make
        model.fit(pd.DataFrame(X[rows], columns=FEATURES), y[rows], sample_weight=weight)
        seconds = time.perf_counter() - t0
        scores = [ev.model_scores(model, d) for d in held]
        thr = ev.tune_banded(scores, held, ev.FA_BUDGET)
        flags = [ev.banded_flags(s, d["band"], thr) for s, d in zip(scores, held)]
        cr = pd.concat([ev.crossing_table(f, d) for f, d in zip(flags, held)])
        drops = cr[cr["scenario"] == "sudden_drop"]
        print(f"{name:16s} crossings {cr['flagged'].mean():.4f}  drops {drops['within2'].mean():.4f}  "
              f"by band {cr.groupby('band')['flagged'].mean().round(3).to_dict()}  fit {seconds:.0f} s",
              flush=True)


if __name__ == "__main__":
    main(sys.argv[1:] or list(VARIANTS))
