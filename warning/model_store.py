"""The scans' risk model: trained on the database's own history known at an as-of month by
its own job (`flask warning train`, scheduled in `flask worker` after each month closes), kept
on disk per as-of month; a scan only loads it.

A model for as-of month A learns from label months <= A - horizon (what happened after each
of them is known at A) with the features each of them had; nothing after A is read. Training
reads three years of history and fits the classifier: several times the cost of a scan, once a
month. A scan that finds no model for its month uses the latest one trained for one of the
`FALLBACK_MONTHS` months before (never a later month: it would know the future of a backdated
scan), else stays classical; either way the scan records why.
"""
from __future__ import annotations

import hashlib
import json
import logging
from pathlib import Path

from core.clock import shift_month
from warning.engine.panel import Panel
from warning.engine.risk import FEATURES, RiskModel
from warning.engine.settings import Settings
from warning.engine.training import train_on_history

log = logging.getLogger(__name__)

CLASSICAL = "classical-1"
TRAINING_SETTINGS = ("horizon", "window", "trend_window", "half_life", "baseline_gap",
                     "parent_pseudo", "recent_kappa", "kappa_bounds", "slope_prior_sd", "season",
                     "band_edges", "model_kind", "label_alpha", "train_months", "train_min_data_months",
                     "train_min_label_months", "train_min_positives", "train_max_rows",
                     "model_false_alarm_share", "model_thresholds_min_rows", "model_thresholds")


FALLBACK_MONTHS = 3


def _key(settings: Settings) -> str:
    key = repr(([getattr(settings, k) for k in TRAINING_SETTINGS], FEATURES))
    return hashlib.sha1(key.encode()).hexdigest()[:8]


def _path(directory: Path, as_of: str, settings: Settings) -> Path:
    return directory / f"risk-{as_of}-{_key(settings)}.joblib"


def train_model(history: Panel | None, as_of: str, settings: Settings,
                directory: str | Path | None) -> tuple[RiskModel | None, dict]:
    """Train the model for `as_of` on `history` (the last `training.history_months(settings)`
    months to as_of) and store it in `directory`. Returns (model or None, summary); without a
    model, the summary says why."""
    if history is None:
        return None, {"version": CLASSICAL, "reason": "no history"}
    model, summary = train_on_history(history, settings)
    if model is None:
        return None, {"version": CLASSICAL, **summary}
    if directory is not None:
        model.save(_path(Path(directory), as_of, settings))
    return model, {**_summary(model.meta), "as_of": as_of}


def load_model(as_of: str, settings: Settings,
               directory: str | Path | None) -> tuple[RiskModel | None, dict]:
    """(model or None, summary) for a scan as of `as_of`: the month's model, else the latest
    of the FALLBACK_MONTHS months before, else none (the summary gives the reason)."""
    if directory is not None:
        for back in range(FALLBACK_MONTHS + 1):
            month = shift_month(as_of, -back)
            path = _path(Path(directory), month, settings)
            if not path.exists():
                continue
            try:
                model = RiskModel.load(path)
            except Exception:  # a corrupt or incompatible file: as if absent
                log.exception("risk model %s unreadable", path)
                continue
            summary = {**_summary(model.meta), "as_of": month}
            if back:
                summary["reason"] = (f"no risk model trained for {as_of} yet: the model of "
                                     f"{month} is used")
            return model, summary
    return None, {"version": CLASSICAL,
                  "reason": f"no risk model trained for {as_of} or the {FALLBACK_MONTHS} months "
                            "before (flask warning train)"}


def _summary(meta: dict) -> dict:
    keep = ("version", "kind", "label", "label_months", "n_label_months", "rows", "positives",
            "n_train", "positive_share", "sklearn", "thresholds")
    return json.loads(json.dumps({k: meta[k] for k in keep if k in meta}))
