"""Classical baselines for the early-warning evaluation. Each returns a score array (S, T),
computed causally (month t uses months <= t only); a method flags when score >= its one
threshold parameter, tuned by `evaluate.py` exactly as the engine's is."""
from __future__ import annotations

import numpy as np


def observed_below(n: np.ndarray, f: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The month's observed pass rate below the floor by more than the threshold:
    score = floor - observed rate (-inf in months without batches)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = 1 - f / n
    return np.where(n > 0, floor[:, None] - rate, -np.inf)


def ewma_p_chart(n: np.ndarray, f: np.ndarray, floor: np.ndarray, lam: float = 0.2):
    """EWMA of the standardised failure count against the floor's failure rate p0 = 1 -
    floor (varying n): z_t = lam u_t + (1 - lam) z_{t-1}, u_t = (f - n p0) / sqrt(n p0 q0).
    score = z_t / sqrt(lam / (2 - lam)) (the L of the control limit)."""
    p0 = (1 - floor)[:, None]
    with np.errstate(invalid="ignore", divide="ignore"):
        u = np.where(n > 0, (f - n * p0) / np.sqrt(n * p0 * (1 - p0)), 0.0)
    z = np.zeros_like(u)
    zt = np.zeros(u.shape[0])
    for t in range(u.shape[1]):
        zt = np.where(n[:, t] > 0, lam * u[:, t] + (1 - lam) * zt, zt)
        z[:, t] = zt
    return z / np.sqrt(lam / (2 - lam))


def binomial_cusum(n: np.ndarray, f: np.ndarray, floor: np.ndarray, burn_in: int = 12,
                   p1_ratio: float = 1.0) -> np.ndarray:
    """Binomial likelihood-ratio CUSUM (Reynolds & Stoumbos 1999) for a shift of the
    failure rate from the series' in-control rate p0 (its pooled rate over the burn-in
    months, at most 0.7 x (1 - floor)) to p1 = p1_ratio x (1 - floor):
    S_t = max(0, S_{t-1} + f log(p1/p0) + (n - f) log((1 - p1)/(1 - p0))). score = S_t."""
    p1 = np.clip(p1_ratio * (1 - floor), 1e-4, 0.9)
    p0 = (f[:, :burn_in].sum(1) + 0.5) / (n[:, :burn_in].sum(1) + 1.0)
    p0 = np.minimum(p0, 0.7 * p1)
    a = np.log(p1 / p0)
    b = np.log((1 - p1) / (1 - p0))
    out = np.zeros_like(n, dtype=float)
    st = np.zeros(n.shape[0])
    for t in range(n.shape[1]):
        st = np.maximum(0.0, st + f[:, t] * a + (n[:, t] - f[:, t]) * b)
        out[:, t] = st
    return out


BASELINES = {
    "observed_below": observed_below,
    "ewma_p_chart": ewma_p_chart,
    "binomial_cusum": binomial_cusum,
}
