"""In-memory reference trees: subtrees, ancestors and effective floors in O(depth).

The trees are small (about a hundred regions and a few hundred categories), so a use case
loads them once (`load_trees(session)`) and works in memory instead of joining per row.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.reference.models import ALL_PRODUCTS, Category, CategoryFloor, Region

PROVINCE = "330000"


@dataclass(frozen=True)
class Node:
    code: str
    parent_code: str | None
    level: int
    name_zh: str
    name_en: str


@dataclass
class Tree:
    nodes: dict[str, Node]
    children: dict[str | None, list[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for node in sorted(self.nodes.values(), key=lambda n: n.code):
            self.children.setdefault(node.parent_code, []).append(node.code)
        self._ancestors: dict[str, tuple[str, ...]] = {}
        self._subtrees: dict[str, frozenset[str]] = {}
        self._named: dict[str, list[str]] | None = None

    def __contains__(self, code: object) -> bool:
        return code in self.nodes

    def ancestors(self, code: str) -> tuple[str, ...]:
        """The node itself and every ancestor up to its root, nearest first."""
        cached = self._ancestors.get(code)
        if cached is None:
            chain, cur = [], code
            while cur is not None:
                chain.append(cur)
                cur = self.nodes[cur].parent_code
            cached = self._ancestors[code] = tuple(chain)
        return cached

    def subtree(self, code: str) -> frozenset[str]:
        """The node and all its descendants."""
        cached = self._subtrees.get(code)
        if cached is None:
            out, stack = set(), [code]
            while stack:
                cur = stack.pop()
                out.add(cur)
                stack.extend(self.children.get(cur, ()))
            cached = self._subtrees[code] = frozenset(out)
        return cached

    def named(self, name: str) -> list[str]:
        """The codes of the nodes whose Chinese or English name is exactly `name`."""
        if self._named is None:  # built on first use: only a rejected code asks
            named: dict[str, set[str]] = {}
            for node in self.nodes.values():
                for text in (node.name_zh, node.name_en):
                    named.setdefault(text, set()).add(node.code)
            self._named = {text: sorted(codes) for text, codes in named.items()}
        return self._named.get(name.strip(), [])

    def roots(self) -> list[str]:
        return list(self.children.get(None, ()))

    def kids(self, code: str | None) -> list[str]:
        return list(self.children.get(code, ()))


@dataclass
class Floors:
    """Dated floors per category code (`*` for all products), resolved up the tree."""

    by_code: dict[str, list[tuple[date, float]]]
    categories: Tree

    def own(self, code: str, on: date) -> float | None:
        entries = self.by_code.get(code)
        if not entries:
            return None
        i = bisect.bisect_right(entries, (on, float("inf")))
        return entries[i - 1][1] if i else None

    def effective(self, code: str, on: date) -> float | None:
        """The floor in force on `on`: the node's own, else its nearest ancestor's, else `*`."""
        if code != ALL_PRODUCTS:
            for ancestor in self.categories.ancestors(code):
                value = self.own(ancestor, on)
                if value is not None:
                    return value
        return self.own(ALL_PRODUCTS, on)


@dataclass
class Trees:
    regions: Tree
    categories: Tree
    floors: Floors


# Trees shared by every request of the process, per database, with the fingerprint they were
# read at. Reading them took a third of a light API request; the fingerprint is one cheap query.
# Runtime changes are floors added (`set_floor`) and rows added by `flask seed reference`: both
# change it. A name corrected in place by a re-seed reaches other processes at their restart.
_shared: dict[str, tuple[tuple, Trees]] = {}
FINGERPRINT_COLUMNS = (select(func.count()).select_from(Region).scalar_subquery(),
                       select(func.count()).select_from(Category).scalar_subquery(),
                       select(func.count()).select_from(CategoryFloor).scalar_subquery(),
                       select(func.max(CategoryFloor.id)).scalar_subquery())
_FINGERPRINT = select(*FINGERPRINT_COLUMNS)


def note_fingerprint(session: Session, stamp: tuple) -> None:
    """Hand `load_trees` the fingerprint another query of this session has just read (the API
    reads it with the caller's token: one round trip less per request)."""
    session.info["reference_stamp"] = tuple(stamp)


def load_trees(session: Session) -> Trees:
    """Load both trees and the floors; cached on the session for the rest of its life, and in
    the process while the reference tables' fingerprint is unchanged."""
    cached = session.info.get("reference_trees")
    if cached is not None:
        return cached
    key = str(session.get_bind().url)
    stamp = session.info.pop("reference_stamp", None) or tuple(session.execute(_FINGERPRINT).one())
    shared = _shared.get(key)
    if shared is not None and shared[0] == stamp:
        trees = shared[1]
    else:
        trees = _read_trees(session)
        _shared[key] = (stamp, trees)
    session.info["reference_trees"] = trees
    return trees


def _read_trees(session: Session) -> Trees:
    regions = Tree({r.code: Node(r.code, r.parent_code, r.level, r.name_zh, r.name_en)
                    for r in session.scalars(select(Region))})
    categories = Tree({c.code: Node(c.code, c.parent_code, c.level, c.name_zh, c.name_en)
                       for c in session.scalars(select(Category))})
    by_code: dict[str, list[tuple[date, float]]] = {}
    for f in session.scalars(select(CategoryFloor).order_by(CategoryFloor.effective_from)):
        by_code.setdefault(f.category_code, []).append((f.effective_from, f.floor))
    return Trees(regions, categories, Floors(by_code, categories))


def forget_trees(session: Session) -> None:
    """Drop the cached trees after reference data changed in this session."""
    session.info.pop("reference_trees", None)
    session.info.pop("reference_stamp", None)
    _shared.pop(str(session.get_bind().url), None)
