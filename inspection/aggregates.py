"""The series aggregate: every batch counts once in each (category ancestor x region ancestor).

Changes are collected as deltas and applied with one upsert per key, inside the caller's
transaction, so a batch and its contribution to the statistics commit or roll back together.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Callable, Sequence

import numpy as np
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from core.clock import month_of
from core.database import add_rows, row_binder
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import Trees
from inspection.models import SeriesMonth

Key = tuple[str, str, str, bool]  # category, region, month, local
KEY_COLUMNS = ("category_code", "region_code", "month", "local")
# Up to this many possible keys (category ancestors x region ancestors x months x 2; a year of
# every category in every county of a province is ~1 million) the spread counts into dense
# arrays (16 bytes a possible key, for as long as it runs) instead of sorting the codes.
DENSE_KEYS = 1 << 22
COUNT_COLUMNS = ("batches", "failed")


class Deltas:
    """Accumulated (batches, failed) changes per series key.

    Changes are counted per recorded (category, region, month, local) first and spread to the
    ancestors only when applied: one dict update per batch instead of twelve.
    """

    def __init__(self, trees: Trees):
        self.trees = trees
        self.changes: dict[Key, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, category: str, region: str, sampled_on: date, local: bool, failed: bool,
            sign: int = 1) -> None:
        self.add_key((category, region, month_of(sampled_on), local), failed, sign)

    def add_key(self, key: Key, failed: bool, sign: int = 1) -> None:
        change = self.changes[key]
        change[0] += sign
        if failed:
            change[1] += sign

    def add_counts(self, batches: dict[Key, int], failed: dict[Key, int]) -> None:
        """Count many batches at once: `batches[key]` of them, `failed[key]` of which failed."""
        for key, n in batches.items():
            change = self.changes[key]
            change[0] += n
            change[1] += failed.get(key, 0)

    def add_batch(self, batch, sign: int = 1) -> None:
        """Count (sign=1) or uncount (sign=-1) a batch; voided batches never count."""
        if batch.voided_at is None:
            self.add(batch.category_code, batch.region_code, batch.sampled_on, batch.local,
                     batch.conclusion == "fail", sign)

    def rows(self) -> list[tuple[str, str, str, bool, int, int]]:
        """The non-zero changes of every ancestor series (categories up to `*`, regions up to the
        province) as sorted (category, region, month, local, batches, failed) tuples."""
        if not self.changes:
            return []
        if len(self.changes) == 1:  # one batch of a form or an API write: no arrays to set up
            (key, (n, f)), = self.changes.items()
            return spread_one(self.trees, key, n, f)
        batches, failed = zip(*self.changes.values())
        return spread(self.trees, list(self.changes), batches, failed)

    def apply(self, session: Session, spread: list[tuple] | None = None) -> None:
        """Upsert the changes, plus `spread`: changes already spread to every ancestor, as
        `rows()` converted by `binder()` (an import's parsing process sums them)."""
        rows = self.rows()  # sorted: concurrent writers lock rows in the same order (no deadlocks)
        self.changes.clear()
        table = SeriesMonth.__table__
        conn = session.connection()
        if spread:
            if rows:
                bind = binder(conn.dialect)
                spread = _merged(spread, [bind(row) for row in rows])
            add_rows(conn, table, KEY_COLUMNS, COUNT_COLUMNS, spread, bound=True)
        elif rows:
            add_rows(conn, table, KEY_COLUMNS, COUNT_COLUMNS, rows)


def spread(trees: Trees, keys: Sequence[Key], batches: Sequence[int],
           failed: Sequence[int]) -> list[tuple[str, str, str, bool, int, int]]:
    """`Deltas.rows()` of (batches[i], failed[i]) changes at keys[i], every key distinct.

    An import of 100,000 rows spreads to over a million (series key, change) pairs; they are
    summed with numpy on integer-coded keys instead of a dict of string tuples, and every
    per-key step runs in C (it is on an import's critical path: the writer waits for it).
    """
    if not keys:
        return []
    categories, regions = trees.categories, trees.regions
    key_c, key_r, key_m, key_l = zip(*keys)
    leaf_c, leaf_r, months = sorted(set(key_c)), sorted(set(key_r)), sorted(set(key_m))
    up_c = [categories.ancestors(c) + (ALL_PRODUCTS,) for c in leaf_c]
    up_r = [regions.ancestors(r) for r in leaf_r]
    names_c = sorted({a for up in up_c for a in up})
    names_r = sorted({a for up in up_r for a in up})
    anc_c = _ancestor_table(up_c, {c: i for i, c in enumerate(names_c)})
    anc_r = _ancestor_table(up_r, {r: i for i, r in enumerate(names_r)})
    leaf_ci, leaf_ri, mi = (_positions(values, names) for values, names in
                            ((key_c, leaf_c), (key_r, leaf_r), (key_m, months)))
    li = np.fromiter(key_l, np.int64, len(keys))
    n, f = np.asarray(batches, np.int64), np.asarray(failed, np.int64)
    codes, ns, fs = [], [], []
    for a in range(anc_c.shape[1]):
        ci = anc_c[leaf_ci, a]
        for b in range(anc_r.shape[1]):
            ri = anc_r[leaf_ri, b]
            ok = (ci >= 0) & (ri >= 0)
            codes.append(((ci[ok] * len(names_r) + ri[ok]) * len(months) + mi[ok]) * 2 + li[ok])
            ns.append(n[ok])
            fs.append(f[ok])
    codes, ns, fs = np.concatenate(codes), np.concatenate(ns), np.concatenate(fs)
    space = len(names_c) * len(names_r) * len(months) * 2
    if space <= DENSE_KEYS:  # count into one slot per possible key: no sort
        sums_n, sums_f = (np.bincount(codes, weights=w, minlength=space) for w in (ns, fs))
        keys_at = np.flatnonzero((sums_n != 0) | (sums_f != 0))
        sums_n, sums_f = sums_n[keys_at], sums_f[keys_at]
    else:
        keys_at, where = np.unique(codes, return_inverse=True)
        sums_n, sums_f = (np.bincount(where, weights=w, minlength=len(keys_at)) for w in (ns, fs))
        kept = (sums_n != 0) | (sums_f != 0)
        keys_at, sums_n, sums_f = keys_at[kept], sums_n[kept], sums_f[kept]
    rest, local = np.divmod(keys_at, 2)
    rest, month = np.divmod(rest, len(months))
    cat, reg = np.divmod(rest, len(names_r))
    # Counts are exact in float64 (bincount's weights) far beyond any number of batches.
    return list(zip(np.array(names_c, object)[cat].tolist(), np.array(names_r, object)[reg].tolist(),
                    np.array(months, object)[month].tolist(), (local == 1).tolist(),
                    sums_n.astype(np.int64).tolist(), sums_f.astype(np.int64).tolist()))


def spread_one(trees: Trees, key: Key, batches: int, failed: int) -> list[tuple[str, str, str, bool, int, int]]:
    """`spread` of a single key's change, in plain Python (what `spread` returns for it)."""
    if not batches and not failed:
        return []
    category, region, month, local = key
    return [(c, r, month, bool(local), int(batches), int(failed))
            for c in sorted({*trees.categories.ancestors(category), ALL_PRODUCTS})
            for r in sorted(set(trees.regions.ancestors(region)))]


def _positions(values: Sequence[str], names: list[str]) -> np.ndarray:
    """The index of each value in `names`."""
    return np.fromiter(map({name: i for i, name in enumerate(names)}.__getitem__, values), np.int64, len(values))


def binder(dialect: Dialect) -> Callable[[tuple], tuple]:
    """Converts a row of `Deltas.rows()` for `add_rows(..., bound=True)`."""
    return row_binder(dialect, SeriesMonth.__table__, KEY_COLUMNS + COUNT_COLUMNS)


def _merged(a: list[tuple], b: list[tuple]) -> list[tuple]:
    """Two lists of `rows()` summed: (*key, batches, failed), sorted, zero changes left out."""
    sums = {row[:4]: row[4:] for row in a}
    for *key, n, f in b:
        key = tuple(key)
        n0, f0 = sums.get(key, (0, 0))
        sums[key] = (n0 + n, f0 + f)
    return [(*key, n, f) for key, (n, f) in sorted(sums.items()) if n or f]


def _ancestor_table(chains: list[tuple[str, ...]], index: dict[str, int]) -> np.ndarray:
    """Row i: the coded ancestors of leaf i, padded with -1 (trees are not all equally deep)."""
    table = np.full((len(chains), max(map(len, chains))), -1, np.int64)
    for i, chain in enumerate(chains):
        table[i, :len(chain)] = [index[a] for a in chain]
    return table
