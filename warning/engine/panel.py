"""The engine's input: n and failed per series (category node x region node) and month."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd

ALL_PRODUCTS = "*"


@dataclass
class Panel:
    """S series x T months, the last month being the month assessed ("as of").

    keys: one row per series with ``category, region, floor, parent_category,
    parent_region`` (parents None/NaN at the roots) and optionally ``blacklisted_share``.
    n, failed: float arrays (S, T); months with no batches hold 0.
    months: T labels (e.g. "2025-03" or ints), oldest first.
    """

    keys: pd.DataFrame
    n: np.ndarray
    failed: np.ndarray
    months: list

    def __post_init__(self) -> None:
        self.keys = self.keys.reset_index(drop=True)
        self.n = np.asarray(self.n, dtype=float)
        self.failed = np.asarray(self.failed, dtype=float)
        S = len(self.keys)
        if self.n.shape != self.failed.shape or self.n.shape[0] != S:
            raise ValueError("n and failed must be (series, months) arrays matching keys")
        if self.n.shape[1] != len(self.months):
            raise ValueError("one month label per column")
        if np.any(self.failed > self.n) or np.any(self.failed < 0):
            raise ValueError("0 <= failed <= n")

    @property
    def S(self) -> int:
        return self.n.shape[0]

    @property
    def T(self) -> int:
        return self.n.shape[1]

    def upto(self, end: int, length: int | None = None) -> "Panel":
        """The panel as of column `end` (inclusive), keeping at most `length` months."""
        lo = 0 if length is None else max(0, end + 1 - length)
        return Panel(self.keys, self.n[:, lo:end + 1], self.failed[:, lo:end + 1],
                     list(self.months[lo:end + 1]))

    # ---- hierarchy indices ------------------------------------------------------------
    def _index(self) -> dict:
        return {k: i for i, k in enumerate(zip(self.keys["category"], self.keys["region"]))}

    def parent_index(self) -> np.ndarray:
        """The series each one borrows strength from: the same category in the parent
        region if present, else the parent category in the same region; -1 at the top."""
        cached = getattr(self, "_parent_idx", None)
        if cached is not None:
            return cached
        idx = self._index()
        out = np.full(self.S, -1, dtype=np.int64)
        for i, (c, r, pc, pr) in enumerate(zip(self.keys["category"], self.keys["region"],
                                               self.keys["parent_category"],
                                               self.keys["parent_region"])):
            j = idx.get((c, pr), -1) if isinstance(pr, str) and pr else -1
            if j < 0 and isinstance(pc, str) and pc:
                j = idx.get((pc, r), -1)
            out[i] = j
        self._parent_idx = out
        return out

    def top_category(self) -> np.ndarray:
        """Top-level category of each series ('*' for all products)."""
        par = dict(zip(self.keys["category"], self.keys["parent_category"]))
        out = []
        cache: dict = {}
        for c in self.keys["category"]:
            if c not in cache:
                cur = c
                while isinstance(par.get(cur), str) and par.get(cur) and par[cur] != ALL_PRODUCTS:
                    cur = par[cur]
                cache[c] = cur
            out.append(cache[c])
        return np.array(out, dtype=object)


def _parent_lookup(parent: Mapping | Callable | None):
    if parent is None:
        return lambda code: None
    if callable(parent) and not isinstance(parent, Mapping):
        return parent
    return lambda code: parent.get(code)


def panel_from_long(df: pd.DataFrame, floors: Mapping | Callable,
                    cat_parent: Mapping | Callable | None = None,
                    region_parent: Mapping | Callable | None = None,
                    months: Sequence | None = None, blacklisted_share: Mapping | None = None,
                    ) -> Panel:
    """Build a panel from a long frame ``category, region, month, n, failed`` (several rows
    of one key are summed, e.g. local and non-local producers of SeriesMonth).

    floors: category -> floor (mapping or function). cat_parent / region_parent: code ->
    parent code (None at the root); the parent of a top-level category is '*'.
    months: the month labels to use, oldest first (default: every month in df, sorted).
    blacklisted_share: optional (category, region) -> share of blacklisted producers.
    """
    floor_of = floors if callable(floors) and not isinstance(floors, Mapping) else floors.get
    cpar, rpar = _parent_lookup(cat_parent), _parent_lookup(region_parent)
    if months is None:
        months = sorted(pd.unique(df["month"]))
    months = list(months)
    df = df[df["month"].isin(months)]
    sid, uniq = pd.factorize(pd.MultiIndex.from_arrays(
        [df["category"].to_numpy(object), df["region"].to_numpy(object)]), sort=True)
    mid = pd.Index(months).get_indexer(df["month"])
    S, T = len(uniq), len(months)
    flat = sid * T + mid
    n = np.bincount(flat, weights=df["n"].to_numpy(float), minlength=S * T).reshape(S, T)
    f = np.bincount(flat, weights=df["failed"].to_numpy(float), minlength=S * T).reshape(S, T)
    cats = [u[0] for u in uniq]
    regs = [u[1] for u in uniq]
    pc = {c: (None if c == ALL_PRODUCTS else (cpar(c) or ALL_PRODUCTS)) for c in set(cats)}
    pr = {r: rpar(r) for r in set(regs)}
    keys = pd.DataFrame({
        "category": cats, "region": regs,
        "floor": [float(floor_of(c)) for c in cats],
        "parent_category": [pc[c] for c in cats],
        "parent_region": [pr[r] for r in regs],
    })
    if blacklisted_share is not None:
        keys["blacklisted_share"] = [float(blacklisted_share.get((c, r), 0.0))
                                     for c, r in zip(cats, regs)]
    return Panel(keys, n, f, months)
