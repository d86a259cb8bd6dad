"""Warning levels from the probability and the red rule."""
from __future__ import annotations

import numpy as np
from scipy.stats import binom

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


def own_below_p(n: np.ndarray, failed: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """One-sided exact binomial p-value of a series' own batches against its floor: the chance
    of at least `failed` failures in `n` batches if the pass rate were exactly the floor (1
    where there is no batch). Small: the batches themselves say the rate is below the floor,
    whatever the estimate borrowed from the series' parents says."""
    n, failed = np.asarray(n, float), np.asarray(failed, float)
    return np.where(n > 0, binom.sf(failed - 1, np.maximum(n, 1), 1 - np.asarray(floor, float)), 1.0)


def levels(prob: np.ndarray, p_now: np.ndarray, thresholds: dict,
           red_confidence: float = 0.975, recent_n: np.ndarray | None = None,
           red_min_batches: int = 5, own_p: np.ndarray | None = None,
           own_red_alpha: float = 0.01, own_watch_alpha: float = 0.05) -> np.ndarray:
    """blue (watch) / yellow / orange from probability thresholds; red when the current rate
    is below the floor with high confidence (P(current below) >= red_confidence) and the
    probability reaches yellow. Monotone in prob for a fixed p_now.

    Evidence rules (`recent_n`: batches in the last 3 months): a series with no recent batch
    is at most blue, since its estimate is only borrowed from its parents; red ("below the
    floor now") needs at least `red_min_batches` recent batches of its own.

    Own-batch rules (`own_p`: `own_below_p` of the same recent batches): the estimate above
    is shrunk toward the series' parents, and the risk model learns from a history where most
    dips recover, so 5 failures in 19 batches against a 93% floor could stay unflagged. A
    series whose own batches are below the floor beyond chance at `own_red_alpha` is red
    whatever the probability; at `own_watch_alpha`, at least blue (both with at least
    `red_min_batches` of them). On the simulator's tuning seeds the red rule alone makes 0.15 false-alarm
    episodes per 100 series-years on series well above their floor; bench/warning/evaluate.py
    counts its months as flagged, so the thresholds are tuned with it.
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
    if own_p is not None:
        own_p = np.asarray(own_p, float)
        if recent_n is not None:  # a few batches are too few to judge on their own
            own_p = np.where(recent_n >= red_min_batches, own_p, 1.0)
        out[(own_p <= own_watch_alpha) & (out == "none")] = "blue"
        red |= own_p <= own_red_alpha
    out[red] = "red"
    return out


def is_flag(level) -> np.ndarray:
    """Yellow or higher."""
    return np.isin(np.asarray(level, dtype=object), ["yellow", "orange", "red"])
