"""The risk model trained on a province's own history: pure (a panel in, a model out).

For each past month m of the panel (the "label months"), the engine's features as of m (only
months <= m, the same window a scan reads) are paired with what happened next: whether the
observed pass rate over months m+1..m+H fell below the floor (`risk.history_labels`). The
last H months have no label yet, so a model for as-of month A learns from months <= A - H
and uses nothing after A. The evaluation (bench/warning/evaluate.py) trains the same way.
"""
from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from warning.engine.assess import features, volume_band
from warning.engine.panel import Panel
from warning.engine.risk import FEATURES, RiskModel, history_labels, subsample_negatives
from warning.engine.settings import DEFAULT_SETTINGS, Settings


def history_months(settings: Settings = DEFAULT_SETTINGS) -> int:
    """Months of history a training panel holds: the label months, the window before the
    first of them and the horizon after the last."""
    return settings.window + settings.train_months + settings.horizon


def training_set(panel: Panel, settings: Settings = DEFAULT_SETTINGS) -> tuple:
    """(X, y, label_months): features as of each label month, with their labels. Label months
    need a year of data before them and H months after; at most `train_months` of them."""
    s = settings
    T = panel.T
    has = np.flatnonzero(panel.n.sum(0) > 0)
    if has.size == 0:
        return pd.DataFrame(columns=FEATURES), np.zeros(0), []
    first = int(has[0]) + s.train_min_data_months - 1
    last = T - 1 - s.horizon
    months = list(range(max(first, last - s.train_months + 1), last + 1))
    y_all = history_labels(panel.n, panel.failed, panel.keys["floor"].to_numpy(float), s.horizon,
                           alpha=s.label_alpha)
    Xs, ys = [], []
    for m in months:
        F = features(panel.upto(m, s.window), s)
        y = y_all[:, m]
        ok = np.isfinite(y)
        Xs.append(F.loc[ok, FEATURES])
        ys.append(y[ok])
    if not Xs:
        return pd.DataFrame(columns=FEATURES), np.zeros(0), []
    return (pd.concat(Xs, ignore_index=True), np.concatenate(ys).astype(int),
            [panel.months[m] for m in months])


def train_on_history(panel: Panel, settings: Settings = DEFAULT_SETTINGS,
                     seed: int = 0) -> tuple[RiskModel | None, dict]:
    """Train the calibrated classifier on the panel's own history. Returns (model, summary);
    model is None when the history is too short (the summary says why)."""
    s = settings
    X, y, months = training_set(panel, s)
    summary = {"label_months": [str(months[0]), str(months[-1])] if months else [],
               "n_label_months": len(months), "rows": int(len(y)),
               "positives": int(y.sum()) if len(y) else 0}
    if len(months) < s.train_min_label_months:
        summary["reason"] = (f"history too short: {len(months)} label months with a year of data "
                             f"before and {s.horizon} after (need {s.train_min_label_months})")
        return None, summary
    pos, rows = summary["positives"], summary["rows"]
    if rows < s.train_min_rows or min(pos, rows - pos) < s.train_min_positives:
        summary["reason"] = (f"too few examples: {rows} series-months, {pos} followed by a rate "
                             f"below the floor (need {s.train_min_rows}, and "
                             f"{s.train_min_positives} of each outcome)")
        return None, summary
    rows, weight = subsample_negatives(y, s.train_max_rows, seed)
    model = RiskModel(kind=s.model_kind).fit(X.iloc[rows], y[rows], label="history",
                                             sample_weight=weight)
    model.meta["thresholds"] = history_thresholds(model.predict(X), y, X["log_volume"], s)
    digest = hashlib.sha1(repr((summary, s.model_kind, FEATURES)).encode()).hexdigest()[:8]
    model.meta.update(summary)
    model.meta["version"] = f"sklearn-{s.model_kind}-{months[-1]}-{digest}"
    summary["version"] = model.meta["version"]
    return model, summary


def history_thresholds(scores, y, log_volume, settings: Settings = DEFAULT_SETTINGS) -> dict:
    """{band: {level: threshold}} for a model trained on a history: in each volume band, the
    (1 - share) quantile of the scores of the training series-months that were not followed
    by a crossing (`settings.model_false_alarm_share` per level), so each level flags about
    that share of the months that turned out fine, whatever the history's base rate. A band
    with fewer than `model_thresholds_min_rows` such months keeps `settings.model_thresholds`."""
    s = settings
    scores, y = np.asarray(scores, float), np.asarray(y, int)
    band = volume_band(np.expm1(np.asarray(log_volume, float)), s.band_edges)
    out = {}
    for b, fallback in s.model_thresholds.items():
        calm = scores[(band == b) & (y == 0)]
        if calm.size < s.model_thresholds_min_rows:
            out[b] = dict(fallback)
            continue
        # never below one in a thousand: a band whose fine months all score ~0 would flag any score
        out[b] = {level: round(max(float(np.quantile(calm, 1 - share)), 1e-3), 6)
                  for level, share in s.model_false_alarm_share.items()}
    return out
