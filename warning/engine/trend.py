"""Weighted binomial (logistic) regression for every series at once: IRLS on stacked
p x p systems (np.linalg.solve), with a Gaussian (ridge) prior per coefficient, an offset
(the seasonal term), and the Pearson overdispersion scale."""
from __future__ import annotations

import numpy as np
from scipy.special import expit


def fit_logistic(X: np.ndarray, n: np.ndarray, f: np.ndarray, offset=None,
                 prior_mean=None, prior_prec=None, iters: int = 30, tol: float = 1e-8):
    """Fit logit P(fail) = X beta + offset for S series at once.

    X: (T, p) shared design or (S, T, p); n, f: (S, T); offset: (S, T) or None;
    prior_mean (S, p), prior_prec (S, p) or (p,): independent normal priors (0 = flat).
    Returns beta (S, p), cov (S, p, p) (inverse Hessian, unscaled), pearson (S,), df (S,).
    """
    n = np.asarray(n, float)
    f = np.asarray(f, float)
    S, T = n.shape
    X = np.broadcast_to(X, (S, T, X.shape[-1])) if X.ndim == 2 else X
    p = X.shape[-1]
    off = np.zeros((S, T)) if offset is None else np.broadcast_to(offset, (S, T))
    m0 = np.zeros((S, p)) if prior_mean is None else np.broadcast_to(prior_mean, (S, p))
    P = np.zeros((S, p)) if prior_prec is None else np.broadcast_to(prior_prec, (S, p))
    eye = np.eye(p)
    beta = np.array(m0, dtype=float)
    rate = (f.sum(1) + 0.5) / (n.sum(1) + 1.0)
    beta[:, 0] = np.log(rate / (1 - rate)) - (off * n).sum(1) / np.maximum(n.sum(1), 1e-9)
    for _ in range(iters):
        eta = np.einsum("stp,sp->st", X, beta) + off
        mu = expit(eta)
        W = n * mu * (1 - mu)
        g = np.einsum("stp,st->sp", X, f - n * mu) - P * (beta - m0)
        H = np.einsum("stp,st,stq->spq", X, W, X) + P[:, :, None] * eye + 1e-10 * eye
        step = np.linalg.solve(H, g[..., None])[..., 0]
        # damp huge steps (separation in thin series)
        big = np.abs(step).max(1, keepdims=True)
        step = step * np.minimum(1.0, 5.0 / np.maximum(big, 1e-12))
        beta = beta + step
        if np.abs(step).max() < tol:
            break
    eta = np.einsum("stp,sp->st", X, beta) + off
    mu = expit(eta)
    W = n * mu * (1 - mu)
    H = np.einsum("stp,st,stq->spq", X, W, X) + P[:, :, None] * eye + 1e-10 * eye
    cov = np.linalg.inv(H)
    has = n > 0
    pearson = np.where(has, (f - n * mu) ** 2 / np.maximum(W, 1e-12), 0.0).sum(1)
    df = has.sum(1) - p
    return beta, cov, pearson, df


def pooled_scale(pearson: np.ndarray, df: np.ndarray, prior_df: float = 10.0) -> np.ndarray:
    """Per-series overdispersion scale, shrunk toward the pooled Pearson chi2/df, >= 1."""
    ok = df > 0
    pooled = max(1.0, pearson[ok].sum() / max(df[ok].sum(), 1)) if ok.any() else 1.0
    d = np.maximum(df, 0)
    phi = (np.where(ok, pearson, 0.0) + prior_df * pooled) / (d + prior_df)
    return np.maximum(phi, 1.0)


def month_of_year(labels) -> np.ndarray:
    """0..11 from 'YYYY-MM' labels or integer month indices (index 0 = January)."""
    out = []
    for m in labels:
        if isinstance(m, str):
            out.append(int(m[5:7]) - 1)
        else:
            out.append(int(m) % 12)
    return np.array(out)


def season_design(moy: np.ndarray) -> np.ndarray:
    ang = 2 * np.pi * moy / 12.0
    return np.stack([np.cos(ang), np.sin(ang)], axis=-1)


def fit_season(n: np.ndarray, f: np.ndarray, moy: np.ndarray, prior_sd: float = 0.3):
    """Annual harmonic (cos, sin) coefficients of each given series with a linear trend,
    ridge-shrunk toward no seasonality. Needs >= 12 months; else zeros."""
    S, T = n.shape
    if T < 12:
        return np.zeros((S, 2))
    t = (np.arange(T) - (T - 1)) / 12.0
    X = np.column_stack([np.ones(T), t, season_design(moy)])
    prec = np.array([0.0, 1.0, 1 / prior_sd ** 2, 1 / prior_sd ** 2])
    beta, *_ = fit_logistic(X, n, f, prior_prec=prec)
    return beta[:, 2:]
