"""Idempotent seeding of the reference trees from the CSV files beside this module."""
from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.reference.models import ALL_PRODUCTS, Category, CategoryFloor, Region
from core.reference.trees import forget_trees

DATA = Path(__file__).parent / "data"
# Floors seeded from the CSV apply from this date on; later changes are new dated rows.
BASELINE = date(2000, 1, 1)
OVERALL_FLOOR = 0.92


def _rows(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def seed_reference(session: Session) -> dict[str, int]:
    """Insert or update regions and categories; add baseline floors where none exist."""
    counts = {"regions": 0, "categories": 0, "floors": 0}
    regions = {r.code: r for r in session.scalars(select(Region))}
    for row in _rows("regions.csv"):  # sorted so parents come first
        region = regions.get(row["code"]) or Region(code=row["code"])
        region.parent_code = row["parent_code"] or None
        region.level = int(row["level"])
        region.name_zh, region.name_en = row["name_zh"], row["name_en"]
        if row["code"] not in regions:
            session.add(region)
            session.flush()
            counts["regions"] += 1
    categories = {c.code: c for c in session.scalars(select(Category))}
    floored = set(session.scalars(select(CategoryFloor.category_code).distinct()))
    wanted_floors = {ALL_PRODUCTS: OVERALL_FLOOR}
    for row in _rows("categories.csv"):
        category = categories.get(row["code"]) or Category(code=row["code"])
        category.parent_code = row["parent_code"] or None
        category.level = row["code"].count(".") + 1
        category.name_zh, category.name_en = row["name_zh"], row["name_en"]
        if row["code"] not in categories:
            session.add(category)
            session.flush()
            counts["categories"] += 1
        if row["floor"]:
            wanted_floors[row["code"]] = float(row["floor"])
    for code, value in wanted_floors.items():
        if code not in floored:
            session.add(CategoryFloor(category_code=code, effective_from=BASELINE, floor=value,
                                      note="基线目标（浙江省质量强省意见第十一条）"))
            counts["floors"] += 1
    session.commit()
    forget_trees(session)
    return counts
