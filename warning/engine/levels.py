"""Warning levels from the probability and the red rule."""
from __future__ import annotations

import numpy as np

LEVELS = ("none", "blue", "yellow", "orange", "red")
RANK = {lv: i for i, lv in enumerate(LEVELS)}


def per_series(thresholds: dict, band: np.ndarray) -> dict:
    """{level: threshold array} from flat thresholds ({level: value}) or thresholds by
    volume band ({band: {level: value}}; a band not listed uses the strictest)."""
    band = np.asarray(band, dtype=object)
    if all(not isinstance(v, dict) for v in thresholds.values()):
        return {k: np.full(band.shape, float(v)) for k, v in thresholds.items()}
    out = {}
    for level in ("blue", "yellow", "orange"):
        strictest = max(t[level] for t in thresholds.values())
        arr = np.full(band.shape, float(strictest))
        for b, t in thresholds.items():
            arr[band == b] = t[level]
        out[level] = arr
    return out


def levels(prob: np.ndarray, p_now: np.ndarray, thresholds: dict,
           red_confidence: float = 0.975, recent_n: np.ndarray | None = None,
           red_min_batches: int = 5) -> np.ndarray:
    """blue (watch) / yellow / orange from probability thresholds; red when the current rate
    is below the floor with high confidence (P(current below) >= red_confidence) and the
    probability reaches yellow. Monotone in prob for a fixed p_now.

    Evidence rules (`recent_n`: batches in the last 3 months): a series with no recent batch
    is at most blue, since its estimate is only borrowed from its parents; red ("below the
    floor now") needs at least `red_min_batches` recent batches of its own.
    """
    prob = np.asarray(prob, float)
    if any(isinstance(v, dict) for v in thresholds.values()):
        raise ValueError("thresholds by band: pass per_series(thresholds, band)")
    out = np.full(prob.shape, "none", dtype=object)
    out[prob >= thresholds["blue"]] = "blue"
    out[prob >= thresholds["yellow"]] = "yellow"
    out[prob >= thresholds["orange"]] = "orange"
    red = (prob >= thresholds["yellow"]) & (np.asarray(p_now) >= red_confidence)
    if recent_n is not None:
        recent_n = np.asarray(recent_n, float)
        red &= recent_n >= red_min_batches
        out[(recent_n <= 0) & (prob >= thresholds["blue"])] = "blue"
    out[red] = "red"
    return out


def is_flag(level) -> np.ndarray:
    """Yellow or higher."""
    return np.isin(np.asarray(level, dtype=object), ["yellow", "orange", "red"])
