"""The series aggregate: every batch counts once in each (category ancestor x region ancestor).

Changes are collected as deltas and applied with one upsert per key, inside the caller's
transaction, so a batch and its contribution to the statistics commit or roll back together.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.orm import Session

from core.clock import month_of
from core.database import insert_rows
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import Trees
from inspection.models import SeriesMonth

Key = tuple[str, str, str, bool]  # category, region, month, local


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
        change = self.changes[(category, region, month_of(sampled_on), local)]
        change[0] += sign
        if failed:
            change[1] += sign

    def add_batch(self, batch, sign: int = 1) -> None:
        """Count (sign=1) or uncount (sign=-1) a batch; voided batches never count."""
        if batch.voided_at is None:
            self.add(batch.category_code, batch.region_code, batch.sampled_on, batch.local,
                     batch.conclusion == "fail", sign)

    def expanded(self) -> dict[Key, list[int]]:
        """The changes of every ancestor series (categories up to `*`, regions up to the province)."""
        out: dict[Key, list[int]] = defaultdict(lambda: [0, 0])
        categories, regions = self.trees.categories, self.trees.regions
        for (category, region, month, local), (n, f) in self.changes.items():
            for c in categories.ancestors(category) + (ALL_PRODUCTS,):
                for r in regions.ancestors(region):
                    change = out[(c, r, month, local)]
                    change[0] += n
                    change[1] += f
        return out

    def apply(self, session: Session) -> None:
        rows = [
            {"category_code": k[0], "region_code": k[1], "month": k[2], "local": k[3],
             "batches": v[0], "failed": v[1]}
            # Sorted so concurrent writers lock rows in the same order (no deadlocks).
            for k, v in sorted(self.expanded().items()) if v[0] or v[1]
        ]
        self.changes.clear()
        if not rows:
            return
        table = SeriesMonth.__table__

        def upsert(stmt):
            return stmt.on_conflict_do_update(
                index_elements=["category_code", "region_code", "month", "local"],
                set_={"batches": table.c.batches + stmt.excluded.batches,
                      "failed": table.c.failed + stmt.excluded.failed})

        # Core, not the ORM bulk path (far slower).
        insert_rows(session.connection(), table, rows, upsert)
