"""Probability of being below the floor within the horizon: the classical forecast
probability, and the optional scikit-learn calibrated classifier over engine features."""
from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.special import logit
from scipy.stats import norm

from warning.engine.levels import own_below_p

FEATURES = ["p_classical", "p_now", "gap_logit", "z_now", "slope", "slope_z", "log_ne",
            "log_nb", "base_gap_logit", "parent_gap_logit", "raw3_gap", "months_data",
            "blacklisted_share", "log_volume", "z1_floor", "z3_floor", "z6_floor", "z1_base",
            "z3_base", "z6_base", "cusum_floor", "parent_z3_base", "parent_z3_floor"]


def forecast_probability(eta_now, var_now, slope, var_slope, season_delta, floor, horizon):
    """P(failure logit above logit(1 - floor)) at each h = 1..H, and their max.

    eta_now/var_now: current failure logit and its variance; slope (logit/month) and its
    variance; season_delta (S, H): seasonal change from now to now + h."""
    thr = logit(np.clip(1 - floor, 1e-6, 1 - 1e-6))
    h = np.arange(1, horizon + 1)[None, :]
    eta = eta_now[:, None] + slope[:, None] * h + season_delta
    sd = np.sqrt(var_now[:, None] + h ** 2 * var_slope[:, None])
    p = norm.sf((thr[:, None] - eta) / sd)
    return p.max(axis=1), eta, sd


class RiskModel:
    """A calibrated classifier of "below the floor within the horizon" from engine features.

    Trained on a province's own history (labels from hindsight) or, in the evaluation, on
    the tuning seeds only. `estimator` defaults to isotonic-calibrated gradient boosting."""

    def __init__(self, estimator=None, kind: str = "hgb"):
        self.kind = kind
        self.estimator = estimator
        self.meta: dict = {}

    def _make(self):
        from sklearn.calibration import CalibratedClassifierCV
        from sklearn.ensemble import HistGradientBoostingClassifier
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
        if self.kind == "logistic":
            base = make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=500))
        else:
            base = HistGradientBoostingClassifier(max_iter=80, learning_rate=0.15,
                                                  max_leaf_nodes=31, min_samples_leaf=100,
                                                  l2_regularization=1.0, random_state=0)
        # Three folds, each a boosted model calibrated on the rest, averaged: isotonic steps
        # tie many scores, and averaging three breaks more ties than two (a level threshold
        # can then sit between them); on the tuning seeds the ranking gained 0.375 -> 0.381
        # crossings flagged at the same false alarms.
        return CalibratedClassifierCV(base, method="isotonic", cv=3)

    def fit(self, X: pd.DataFrame, y: np.ndarray, label: str = "",
            sample_weight: np.ndarray | None = None) -> "RiskModel":
        import sklearn
        self.estimator = self._make()
        self.estimator.fit(X[FEATURES].to_numpy(float), np.asarray(y, int),
                           sample_weight=sample_weight)
        self.meta = {"features": FEATURES, "kind": self.kind, "label": label,
                     "n_train": int(len(y)), "positive_share": float(np.mean(y)),
                     "sklearn": sklearn.__version__, "numpy": np.__version__}
        return self

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        from threadpoolctl import threadpool_limits
        # One thread: for a scan's rows, OpenMP's start-up and spinning threads cost more CPU
        # than they save, most of all on a busy machine.
        with threadpool_limits(1, user_api="openmp"):
            return self.estimator.predict_proba(X[FEATURES].to_numpy(float))[:, 1]

    def save(self, path) -> None:
        import joblib
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.with_suffix(path.suffix + ".json").write_text(json.dumps(self.meta, indent=2))
        # Written aside and renamed: a reader never sees half a model, even with a training
        # job killed midway or two of them at once.
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        joblib.dump({"estimator": self.estimator, "meta": self.meta, "kind": self.kind}, tmp)
        os.replace(tmp, path)

    @classmethod
    def load(cls, path) -> "RiskModel":
        import warnings

        import joblib
        import sklearn
        obj = joblib.load(path)
        m = cls(obj["estimator"], obj["kind"])
        m.meta = obj["meta"]
        if m.meta.get("sklearn") != sklearn.__version__:
            warnings.warn(f"risk model saved with scikit-learn {m.meta.get('sklearn')}, "
                          f"loaded with {sklearn.__version__}")
        return m


def subsample_negatives(y: np.ndarray, max_rows: int, seed: int = 0) -> tuple:
    """(rows, weights or None) for a training set of at most `max_rows`: all rows when they
    fit; else every positive and a random share of the negatives, weighted back up (1 /
    share) so the fitted, calibrated probabilities keep the full data's base rate. Crossings
    are rare (a few percent of series-months): a uniform subsample would drop most of the
    scarce positives with the plentiful negatives."""
    y = np.asarray(y, int)
    if len(y) <= max_rows:
        return np.arange(len(y)), None
    pos = np.flatnonzero(y == 1)
    neg = np.flatnonzero(y != 1)
    rng = np.random.default_rng(seed)
    if len(pos) >= max_rows // 2:  # positives not rare: keep half of the rows for each class
        pos = np.sort(rng.choice(pos, size=max_rows // 2, replace=False))
    share = (max_rows - len(pos)) / len(neg)
    keep = np.sort(np.concatenate([pos, rng.choice(neg, size=max_rows - len(pos), replace=False)]))
    weight = np.where(y[keep] == 1, 1.0, 1.0 / share)
    if len(pos) < (y == 1).sum():
        weight[y[keep] == 1] = (y == 1).sum() / len(pos)
    return keep, weight


def history_labels(n: np.ndarray, f: np.ndarray, floor: np.ndarray, horizon: int = 3,
                   min_n: float = 0.0, alpha: float | None = None) -> np.ndarray:
    """Production labels from a province's own history, for month m: the observed pooled
    rate over months m+1..m+H is below the floor (NaN where the months have no batch).
    With `alpha`, below the floor beyond chance: that many failures or more would happen with
    probability at most alpha at a failure rate of exactly 1 - floor (thin series then need
    more than one failed batch to count as a crossing)."""
    S, T = n.shape
    y = np.full((S, T), np.nan)
    cn = np.concatenate([np.zeros((S, 1)), np.cumsum(n, 1)], 1)
    cf = np.concatenate([np.zeros((S, 1)), np.cumsum(f, 1)], 1)
    for m in range(T - horizon):
        nn = cn[:, m + 1 + horizon] - cn[:, m + 1]
        ff = cf[:, m + 1 + horizon] - cf[:, m + 1]
        ok = nn > min_n
        if alpha is None:
            y[ok, m] = (1 - ff[ok] / nn[ok]) < floor[ok]
        else:
            y[ok, m] = own_below_p(nn[ok], ff[ok], floor[ok]) <= alpha
    return y
