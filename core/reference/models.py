"""Regions, product categories and their dated target floors."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, UTCDateTime, utcnow

# The pseudo-category "all products" in floors and in the series aggregate.
ALL_PRODUCTS = "*"


class Region(Base):
    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(String(6), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("regions.code"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 1 province, 2 city, 3 county level
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))


class Category(Base):
    __tablename__ = "categories"

    code: Mapped[str] = mapped_column(String(96), primary_key=True)
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("categories.code"), index=True)
    level: Mapped[int] = mapped_column(Integer)  # 1 for food / drug / farm / industrial
    name_zh: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(128))


class CategoryFloor(Base):
    """A target floor for a category (or `*`, all products) in force from a date on."""

    __tablename__ = "category_floors"
    __table_args__ = (
        UniqueConstraint("category_code", "effective_from"),
        CheckConstraint("floor >= 0 AND floor <= 1", name="floor_fraction"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Not a foreign key: `*` (all products) has a floor but is not a category row.
    category_code: Mapped[str] = mapped_column(String(96), index=True)
    effective_from: Mapped[date] = mapped_column(Date)
    floor: Mapped[float] = mapped_column(Float)
    note: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
