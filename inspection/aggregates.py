"""The series aggregate: every batch counts once in each (category ancestor x region ancestor).

Changes are collected as deltas and applied with one upsert per key, inside the caller's
transaction, so a batch and its contribution to the statistics commit or roll back together.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import date

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from core.clock import month_of
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import Trees
from inspection.models import SeriesMonth

Key = tuple[str, str, str, bool]  # category, region, month, local


class Deltas:
    """Accumulated (batches, failed) changes per series key."""

    def __init__(self, trees: Trees):
        self.trees = trees
        self.changes: dict[Key, list[int]] = defaultdict(lambda: [0, 0])

    def add(self, category: str, region: str, sampled_on: date, local: bool, failed: bool,
            sign: int = 1) -> None:
        month = month_of(sampled_on)
        categories = self.trees.categories.ancestors(category) + (ALL_PRODUCTS,)
        regions = self.trees.regions.ancestors(region)
        f = sign if failed else 0
        for c in categories:
            for r in regions:
                change = self.changes[(c, r, month, local)]
                change[0] += sign
                change[1] += f

    def add_batch(self, batch, sign: int = 1) -> None:
        """Count (sign=1) or uncount (sign=-1) a batch; voided batches never count."""
        if batch.voided_at is None:
            self.add(batch.category_code, batch.region_code, batch.sampled_on, batch.local,
                     batch.conclusion == "fail", sign)

    def apply(self, session: Session) -> None:
        rows = [
            {"category_code": k[0], "region_code": k[1], "month": k[2], "local": k[3],
             "batches": v[0], "failed": v[1]}
            # Sorted so concurrent writers lock rows in the same order (no deadlocks).
            for k, v in sorted(self.changes.items()) if v[0] or v[1]
        ]
        if not rows:
            return
        conn = session.connection()  # Core executemany: the ORM bulk path is far slower
        module = postgresql if conn.dialect.name == "postgresql" else sqlite
        table = SeriesMonth.__table__
        stmt = module.insert(table)
        stmt = stmt.on_conflict_do_update(
            index_elements=["category_code", "region_code", "month", "local"],
            set_={"batches": table.c.batches + stmt.excluded.batches,
                  "failed": table.c.failed + stmt.excluded.failed},
        )
        for start in range(0, len(rows), 5000):
            conn.execute(stmt, rows[start:start + 5000])
        self.changes.clear()

