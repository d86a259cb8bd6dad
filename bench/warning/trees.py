"""The real reference trees (regions, product categories, floors) read straight from the CSVs.

The simulator must not import the application (no Flask, no database), so this module parses
`core/reference/data/regions.csv` and `categories.csv` with the csv module and mirrors the
rules the application uses:

* a category's effective floor is its own floor, else its nearest ancestor's, else the
  all-products floor (`*`, 0.92, as `core.reference.seed.OVERALL_FLOOR`);
* leaf categories are codes that are nobody's parent;
* every batch counts in each (category ancestor incl. `*`) x (region ancestor) series, as
  `inspection.aggregates.Deltas` does.

`Trees.subset()` keeps a fraction of the leaf categories and/or some cities (with all their
counties), so a run can be small for tests and large for the evaluation.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parents[2] / "core" / "reference" / "data"
ALL_PRODUCTS = "*"
OVERALL_FLOOR = 0.92
PROVINCE = "330000"
TOPS = ("drug", "farm", "food", "industrial")


def _rows(name: str, data: Path = DATA) -> list[dict[str, str]]:
    with open(data / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


@dataclass
class Trees:
    """Both trees, possibly restricted to a subset of leaf categories and cities."""

    cat_parent: dict[str, str | None]          # category code -> parent (None for tops)
    own_floor: dict[str, float]                # categories with their own floor
    region_parent: dict[str, str | None]       # region code -> parent (None for province)
    region_level: dict[str, int]               # 1 province, 2 city, 3 county
    leaf_categories: list[str] = field(default_factory=list)
    counties: list[str] = field(default_factory=list)

    # ---- categories -------------------------------------------------------------------
    def cat_ancestors(self, code: str) -> tuple[str, ...]:
        """The node, its ancestors nearest first, then `*`."""
        if code == ALL_PRODUCTS:
            return (ALL_PRODUCTS,)
        chain, cur = [], code
        while cur is not None:
            chain.append(cur)
            cur = self.cat_parent[cur]
        return tuple(chain) + (ALL_PRODUCTS,)

    def top_of(self, code: str) -> str:
        return code.split(".")[0] if code != ALL_PRODUCTS else ALL_PRODUCTS

    def floor(self, code: str) -> float:
        """Effective floor: own, else nearest ancestor's, else the all-products floor."""
        for a in self.cat_ancestors(code):
            if a in self.own_floor:
                return self.own_floor[a]
        return OVERALL_FLOOR

    def cat_level(self, code: str) -> str:
        """'all' for `*`, 'leaf' for a leaf in use, 'top' for a root, else 'mid'."""
        if code == ALL_PRODUCTS:
            return "all"
        if code in self._leaf_set:
            return "leaf"
        return "top" if self.cat_parent[code] is None else "mid"

    # ---- regions ----------------------------------------------------------------------
    def region_ancestors(self, code: str) -> tuple[str, ...]:
        chain, cur = [], code
        while cur is not None:
            chain.append(cur)
            cur = self.region_parent[cur]
        return tuple(chain)

    def city_of(self, county: str) -> str:
        return self.region_parent[county]

    def region_level_name(self, code: str) -> str:
        return {1: "province", 2: "city", 3: "county"}[self.region_level[code]]

    @property
    def cities(self) -> list[str]:
        return sorted({self.city_of(c) for c in self.counties})

    def __post_init__(self) -> None:
        if not self.leaf_categories:
            parents = {p for p in self.cat_parent.values() if p is not None}
            self.leaf_categories = sorted(c for c in self.cat_parent if c not in parents)
        if not self.counties:
            self.counties = sorted(c for c, lv in self.region_level.items() if lv == 3)
        self._leaf_set = frozenset(self.leaf_categories)

    # ---- subsets ----------------------------------------------------------------------
    def subset(self, rng: np.random.Generator, leaf_fraction: float = 1.0,
               cities: int | tuple[str, ...] | list[str] | None = None) -> "Trees":
        """Keep a fraction of the leaf categories (at least one per top-level category,
        drawn per top) and some cities (a count drawn at random, or explicit codes)."""
        leaves = self.leaf_categories
        if leaf_fraction < 1.0:
            kept = []
            for top in TOPS:
                mine = [c for c in leaves if self.top_of(c) == top]
                k = max(1, int(round(leaf_fraction * len(mine))))
                kept += list(rng.choice(mine, size=k, replace=False))
            leaves = sorted(kept)
        all_cities = sorted({self.city_of(c) for c in self.counties})
        if cities is None:
            keep_cities = all_cities
        elif isinstance(cities, int):
            keep_cities = sorted(rng.choice(all_cities, size=min(cities, len(all_cities)),
                                            replace=False))
        else:
            unknown = set(cities) - set(all_cities)
            if unknown:
                raise ValueError(f"not cities: {sorted(unknown)}")
            keep_cities = sorted(cities)
        counties = [c for c in self.counties if self.city_of(c) in set(keep_cities)]
        return Trees(self.cat_parent, self.own_floor, self.region_parent, self.region_level,
                     leaf_categories=[str(c) for c in leaves], counties=counties)


def load_trees(data: Path = DATA) -> Trees:
    """Read both CSVs (the full trees)."""
    cats = _rows("categories.csv", data)
    regs = _rows("regions.csv", data)
    cat_parent = {r["code"]: (r["parent_code"] or None) for r in cats}
    own_floor = {r["code"]: float(r["floor"]) for r in cats if r["floor"]}
    own_floor[ALL_PRODUCTS] = OVERALL_FLOOR
    region_parent = {r["code"]: (r["parent_code"] or None) for r in regs}
    region_level = {r["code"]: int(r["level"]) for r in regs}
    return Trees(cat_parent, own_floor, region_parent, region_level)
