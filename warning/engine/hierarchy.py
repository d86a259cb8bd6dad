"""Evidence a series borrows from its neighbours in both trees, vectorised over series.

A thin county series (a few batches a month) cannot tell a degradation from chance on its
own, but the same sub-category in the city's other counties, or the other sub-categories of
its category in the same county, often can: a supplier or a practice shared across a city
shows in many thin series at once. These features hand the risk model that pooled evidence
(the classifier learns how much of it to trust), while one failed batch out of four in a
single series, with quiet siblings, stays weak evidence.

Excess failures are measured against each series' own (shrunk) baseline failure rate:
e = f - n * base, v = n * base * (1 - base) over the last k months.
"""
from __future__ import annotations

import numpy as np
from scipy.special import logit

EXCESS_Z = 1.0  # a series "shows excess" when its 3-month z against its baseline is above this


def _group_sum(values: np.ndarray, group: np.ndarray, size: int) -> np.ndarray:
    ok = group >= 0
    return np.bincount(group[ok], values[ok], minlength=size)


def _siblings(group: np.ndarray, e: np.ndarray, v: np.ndarray, shows: np.ndarray,
              has: np.ndarray) -> tuple:
    """Pooled z of the other members of each series' group (its parent's other children),
    and the share of them that show excess (0 without siblings)."""
    S = len(group)
    g = np.where(group >= 0, group, S)  # roots form their own (unused) group
    E = np.bincount(g, e, S + 1)[g] - e
    V = np.bincount(g, v, S + 1)[g] - v
    k = np.bincount(g, has.astype(float), S + 1)[g] - has
    x = np.bincount(g, (shows & has).astype(float), S + 1)[g] - (shows & has)
    z = np.where(V > 1e-9, E / np.sqrt(np.maximum(V, 1e-9)), 0.0)
    share = np.where(k > 0, x / np.maximum(k, 1), 0.0)
    root = group < 0
    return np.where(root, 0.0, z), np.where(root, 0.0, share)


def _children_share(group: np.ndarray, shows: np.ndarray, has: np.ndarray) -> np.ndarray:
    """Share of a series' children (in one tree) that show excess; 0 for a leaf."""
    S = len(group)
    k = _group_sum(has.astype(float), group, S)
    x = _group_sum((shows & has).astype(float), group, S)
    return np.where(k > 0, x / np.maximum(k, 1), 0.0)


def hierarchy_evidence(n: np.ndarray, f: np.ndarray, base: np.ndarray, floor: np.ndarray,
                       rpar: np.ndarray, cpar: np.ndarray, kappa: float) -> dict:
    """Features from the series' neighbourhood as of the last month of n, f (S, T).

    rpar: the same category in the parent region; cpar: the parent category in the same
    region (-1 when absent). kappa: prior strength (batches) for the 6-month pooled rate
    shrunk toward the region parent's."""
    pb = np.clip(base, 1e-4, 0.9)
    out: dict = {}
    ev = {}
    for k in (1, 3):
        nk, fk = n[:, -k:].sum(1), f[:, -k:].sum(1)
        ev[k] = (fk - nk * pb, nk * pb * (1 - pb), nk > 0)
    e3, v3, has3 = ev[3]
    z3 = np.where(v3 > 1e-9, e3 / np.sqrt(np.maximum(v3, 1e-9)), 0.0)
    shows = z3 > EXCESS_Z
    for name, group in (("rsib", rpar), ("csib", cpar)):
        for k in (1, 3):
            e, v, has = ev[k]
            z, share = _siblings(group, e, v, shows, has)
            out[f"{name}_z{k}"] = z
            if k == 3:
                out[f"{name}_share"] = share
    out["rchild_share"] = _children_share(rpar, shows, has3)
    out["cchild_share"] = _children_share(cpar, shows, has3)
    # The parents' own 1-month evidence (a sudden drop shared by the city's counties shows
    # in the city series the month it happens).
    e1, v1, _ = ev[1]
    z1 = np.where(v1 > 1e-9, e1 / np.sqrt(np.maximum(v1, 1e-9)), 0.0)
    for name, group in (("rpar", rpar), ("cpar", cpar)):
        j = np.where(group >= 0, group, np.arange(len(group)))
        out[f"{name}_z1"] = np.where(group >= 0, z1[j], 0.0)
    out["cpar_z3"] = np.where(cpar >= 0, z3[np.where(cpar >= 0, cpar, 0)], 0.0)
    # 6-month rate shrunk toward the region parent's 6-month rate (empirical Bayes with the
    # recent prior strength): a longer window for slow drifts in thin series.
    n6, f6 = n[:, -6:].sum(1), f[:, -6:].sum(1)
    j = np.where(rpar >= 0, rpar, np.arange(len(rpar)))
    prior = np.where(rpar >= 0, (f6[j] + 0.5) / (n6[j] + 1.0), pb)
    q6 = (f6 + kappa * prior) / (n6 + kappa)
    thr = logit(np.clip(1 - floor, 1e-6, 1 - 1e-6))
    out["pooled6_gap"] = logit(np.clip(q6, 1e-6, 1 - 1e-6)) - thr
    return out
