"""Target floors: their dated history, and administrators setting a new one."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import audit
from core.errors import Conflict, ValidationFailed
from core.messages import N_
from core.reference.models import ALL_PRODUCTS, CategoryFloor
from core.reference.trees import forget_trees, load_trees

UNKNOWN_CATEGORY = N_("unknown category code '%(code)s' ('*' is all products)")
NOT_A_FRACTION = N_("a floor is a fraction in (0, 1], e.g. 0.95")
FLOOR_EXISTS = N_("%(category)s already has a floor from %(date)s; set one from another date")
DATE_TAKEN = N_("a floor from this date exists")


def list_floors(session: Session, category: str | None = None) -> list[CategoryFloor]:
    """Every floor ever set, oldest first (optionally for one category code or `*`)."""
    stmt = select(CategoryFloor).order_by(CategoryFloor.category_code, CategoryFloor.effective_from)
    if category and category != ALL_PRODUCTS and category not in load_trees(session).categories:
        raise ValidationFailed.on("category", UNKNOWN_CATEGORY(code=category))  # not "no floors"
    if category:
        stmt = stmt.where(CategoryFloor.category_code == category)
    return list(session.scalars(stmt))


def set_floor(session: Session, category: str, floor: float, effective_from: date, note: str | None,
              actor_id: int) -> CategoryFloor:
    """Add a floor in force from a date on; figures before that date keep the old floor."""
    if category != ALL_PRODUCTS and category not in load_trees(session).categories:
        raise ValidationFailed.on("category", UNKNOWN_CATEGORY(code=category))
    if not 0 < floor <= 1:
        raise ValidationFailed.on("floor", NOT_A_FRACTION)
    taken = session.scalar(select(CategoryFloor.id).where(CategoryFloor.category_code == category,
                                                          CategoryFloor.effective_from == effective_from))
    if taken is not None:
        raise Conflict(FLOOR_EXISTS(category=category, date=effective_from), {"effective_from": [DATE_TAKEN]})
    row = CategoryFloor(category_code=category, floor=floor, effective_from=effective_from, note=note,
                        created_by_id=actor_id)
    session.add(row)
    session.flush()
    audit(session, actor_id, "create", "floor", row.id,
          after={"category": category, "floor": floor, "effective_from": effective_from, "note": note})
    session.commit()
    forget_trees(session)
    return row
