"""Warning levels from the probability and the red rule."""
from __future__ import annotations

import numpy as np

LEVELS = ("none", "blue", "yellow", "orange", "red")
RANK = {lv: i for i, lv in enumerate(LEVELS)}


def levels(prob: np.ndarray, p_now: np.ndarray, thresholds: dict,
           red_confidence: float = 0.975) -> np.ndarray:
    """blue (watch) / yellow / orange from probability thresholds; red when the current rate
    is below the floor with high confidence (P(current below) >= red_confidence) and the
    probability reaches yellow. Monotone in prob for a fixed p_now."""
    prob = np.asarray(prob, float)
    out = np.full(prob.shape, "none", dtype=object)
    out[prob >= thresholds["blue"]] = "blue"
    out[prob >= thresholds["yellow"]] = "yellow"
    out[prob >= thresholds["orange"]] = "orange"
    out[(prob >= thresholds["yellow"]) & (np.asarray(p_now) >= red_confidence)] = "red"
    return out


def is_flag(level) -> np.ndarray:
    """Yellow or higher."""
    return np.isin(np.asarray(level, dtype=object), ["yellow", "orange", "red"])
