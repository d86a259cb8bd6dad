"""Declarative base shared by every domain's models."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData
from sqlalchemy.types import TypeDecorator
from sqlalchemy.orm import DeclarativeBase

# Stable constraint names, so Alembic migrations are reproducible on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def built_on(dialect_name: str):
    """Alembic `include_object` hook: leave out what a model builds only on other databases.

    Autogenerate ignores `ddl_if`, so without it a PostgreSQL-only index shows as missing on SQLite.
    """
    def include(obj, name, type_, reflected, compare_to) -> bool:
        condition = getattr(obj, "_ddl_if", None)
        if condition is None or condition.dialect is None:
            return True
        wanted = condition.dialect
        return dialect_name == wanted if isinstance(wanted, str) else dialect_name in wanted
    return include


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


TIMESTAMPTZ_OID = 1184  # PostgreSQL's type code of `timestamp with time zone`


class UTCDateTime(TypeDecorator):
    """A timestamp stored in UTC and always returned timezone-aware (SQLite drops the zone)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given; use core.models.utcnow()")
        return value.astimezone(timezone.utc) if value is not None else None

    def result_processor(self, dialect, coltype):
        # psycopg returns a `timestamp with time zone` timezone-aware already: nothing to do per
        # value (a list of fifty alerts called the check below 150 times).
        if dialect.driver == "psycopg" and coltype == TIMESTAMPTZ_OID:
            return self.impl_instance.result_processor(dialect, coltype)
        return super().result_processor(dialect, coltype)

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value
