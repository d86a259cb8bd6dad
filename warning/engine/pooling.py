"""Empirical-Bayes beta-binomial shrinkage over the hierarchy, vectorised over series."""
from __future__ import annotations

import numpy as np


def mom_relative_variance(f: np.ndarray, n: np.ndarray, group: np.ndarray) -> float:
    """Between-series variance of the failure rate among siblings (series sharing a
    `group` >= 0), relative to p(1-p): rho = tau^2 / (p (1 - p)) = 1 / (kappa + 1), pooled
    over all groups by the method of moments (DerSimonian-Laird style)."""
    ok = (group >= 0) & (n > 0)
    if ok.sum() < 3:
        return 0.01
    g, f, n = group[ok], f[ok], n[ok]
    G = int(g.max()) + 1
    N = np.bincount(g, n, G)
    F = np.bincount(g, f, G)
    k = np.bincount(g, minlength=G)
    pg = np.where(N > 0, F / np.maximum(N, 1e-12), 0.0)
    p = f / n
    Q = np.bincount(g, n * (p - pg[g]) ** 2, G)
    v = pg * (1 - pg)
    num = Q - np.maximum(k - 1, 0) * v
    den = (N - np.bincount(g, n * n, G) / np.maximum(N, 1e-12)) * v
    use = (k > 1) & (v > 0)
    if not use.any() or den[use].sum() <= 0:
        return 0.01
    return float(np.clip(num[use].sum() / den[use].sum(), 1e-4, 0.5))


def shrink(f: np.ndarray, n: np.ndarray, prior_mean: np.ndarray, kappa) -> tuple:
    """Beta posterior (a, b) of the failure rate with a Beta(kappa m, kappa (1 - m)) prior."""
    m = np.clip(prior_mean, 1e-5, 1 - 1e-5)
    a = kappa * m + f
    b = kappa * (1 - m) + (n - f)
    return a, b


def depth(parent: np.ndarray) -> np.ndarray:
    """Steps from each series up to its root (parent < 0)."""
    out = np.zeros(parent.shape, dtype=np.int64)
    cur = parent.copy()
    while (cur >= 0).any():
        out += cur >= 0
        cur = np.where(cur >= 0, parent[np.maximum(cur, 0)], -1)
    return out


def shrink_down(f: np.ndarray, n: np.ndarray, parent: np.ndarray, kappa: float,
                root_mean: np.ndarray) -> tuple:
    """Beta posteriors (a, b) down the hierarchy: a root's prior mean is `root_mean`, every
    other series' the posterior mean of its parent, parents before children. Shrinking toward
    the parent's *raw* rate instead lets a thin parent lend its own noise: a city with 3
    batches and no failure has a half-batch rate of 1/8, and its thin counties would inherit a
    failure rate far above any floor's."""
    d = depth(parent)
    a, b = np.zeros(n.shape), np.zeros(n.shape)
    mean = np.asarray(root_mean, float).copy()
    for level in range(int(d.max()) + 1 if d.size else 0):
        idx = np.flatnonzero(d == level)
        prior = mean[idx] if level == 0 else mean[parent[idx]]
        a[idx], b[idx] = shrink(f[idx], n[idx], prior, 0.0 if level == 0 else kappa)
        total = a[idx] + b[idx]
        mean[idx] = np.where(total > 0, a[idx] / np.where(total > 0, total, 1.0), prior)
    return a, b


def ew_sums(n: np.ndarray, f: np.ndarray, half_life: float) -> tuple:
    """Exponentially weighted sums over months, the last month weighing 1:
    (sum w n, sum w f, sum w^2 n)."""
    T = n.shape[1]
    w = 0.5 ** ((T - 1 - np.arange(T)) / half_life)
    return n @ w, f @ w, n @ (w * w)


def recent_relative_variance(fe, ne, n2e, m) -> float:
    """Relative variance of the recent failure rate around its prior mean m, by moments:
    E (fe - ne m)^2 = n2e m (1 - m) + ne^2 tau^2."""
    v = m * (1 - m)
    ok = (ne > 0) & (v > 0)
    num = ((fe - ne * m) ** 2 - n2e * v)[ok].sum()
    den = (ne ** 2 * v)[ok].sum()
    if den <= 0:
        return 0.01
    return float(np.clip(num / den, 1e-4, 0.5))
