"""The scan's risk model: trained on the database's own history known at the as-of month,
kept on disk per as-of month so the nightly scans of a month reuse the one trained first.

A model for as-of month A learns from label months <= A - horizon (what happened after each
of them is known at A) with the features each of them had; nothing after A is read. It is
retrained when the as-of month (or a setting it depends on) changes, not when a batch
arrives: the month's model is a stable reference, and training is the costly part.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path
from typing import Callable

from warning.engine.panel import Panel
from warning.engine.risk import FEATURES, RiskModel
from warning.engine.settings import Settings
from warning.engine.training import train_on_history

log = logging.getLogger(__name__)

CLASSICAL = "classical-1"
TRAINING_SETTINGS = ("horizon", "window", "trend_window", "half_life", "baseline_gap",
                     "parent_pseudo", "recent_kappa", "kappa_bounds", "slope_prior_sd", "season",
                     "band_edges", "model_kind", "label_alpha", "train_months", "train_min_data_months",
                     "train_min_label_months", "train_min_positives", "train_negative_fraction",
                     "train_max_rows",
                     "model_false_alarm_share", "model_thresholds_min_rows", "model_thresholds")


def _path(directory: Path, as_of: str, settings: Settings) -> Path:
    key = repr(([getattr(settings, k) for k in TRAINING_SETTINGS], FEATURES))
    return directory / f"risk-{as_of}-{hashlib.sha1(key.encode()).hexdigest()[:8]}.joblib"


def risk_model_for(history: Callable[[], Panel | None], as_of: str, settings: Settings,
                   directory: str | Path | None) -> tuple[RiskModel | None, dict]:
    """(model or None, summary). `history()` gives the panel of the last
    `training.history_months(settings)` months to as_of; it is read only when no model is
    cached. The summary records the version, what the model learnt from and whether it was
    cached; without a model, the reason the scan is classical."""
    path = _path(Path(directory), as_of, settings) if directory else None
    if path is not None and path.exists():
        try:
            model = RiskModel.load(path)
            return model, {**_summary(model.meta), "cached": True}
        except Exception:  # a corrupt or incompatible file: train again
            log.exception("risk model %s unreadable; training again", path)
    panel = history()
    if panel is None:
        return None, {"version": CLASSICAL, "reason": "no history"}
    model, summary = train_on_history(panel, settings)
    if model is None:
        return None, {"version": CLASSICAL, **summary}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        model.save(path)
    return model, {**_summary(model.meta), "cached": False}


def _summary(meta: dict) -> dict:
    keep = ("version", "kind", "label", "label_months", "n_label_months", "rows", "positives",
            "n_train", "positive_share", "sklearn", "thresholds")
    return json.loads(json.dumps({k: meta[k] for k in keep if k in meta}))
