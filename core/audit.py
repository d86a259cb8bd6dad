"""The audit trail: one append-only record per write (who, when, from where, what changed).

The application has no update or delete path for it; on PostgreSQL a trigger refuses UPDATE
and DELETE outright (migration 0002).
"""
from __future__ import annotations

import getpass
import os
import socket
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from flask import has_request_context, request
from sqlalchemy import JSON, ForeignKey, Index, Integer, String, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.models import Base, UTCDateTime, utcnow


class AuditRecord(Base):
    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(32))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)


_INSERT = insert(AuditRecord.__table__)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


@lru_cache(maxsize=1)
def local_origin() -> str:
    """Where a write outside any request comes from (a console command, the worker's jobs): the
    operating-system login and the host, so that a change made at a console with no user of
    the system (`flask users ...`, a calendar seed, the nightly rules) still says who ran it."""
    try:
        login = getpass.getuser()
    except (KeyError, OSError):  # a container user without a name
        login = str(os.getuid())
    return f"{login}@{socket.gethostname()}"[:64]


def audit_values(user_id: int | None, action: str, entity: str, entity_id: Any,
                 before: dict | None = None, after: dict | None = None) -> dict[str, Any]:
    """An audit record's columns but its time (the column's default sets it when inserted):
    `address` is the client's for a request, else `local_origin()`."""
    address = request.remote_addr if has_request_context() else local_origin()
    return {"user_id": user_id, "address": address, "action": action, "entity": entity,
            "entity_id": str(entity_id), "before": _plain(before), "after": _plain(after)}


def audit(session: Session, user_id: int | None, action: str, entity: str, entity_id: Any,
          before: dict | None = None, after: dict | None = None) -> None:
    """Add an audit record to the caller's transaction (it commits with the change it records)."""
    session.add(AuditRecord(**audit_values(user_id, action, entity, entity_id, before, after)))


def insert_audit(conn: Connection, user_id: int | None, action: str, entity: str, entity_id: Any,
                 before: dict | None = None, after: dict | None = None) -> None:
    """`audit` for a use case writing with Core statements on `conn` (in its transaction): the
    same record, without the ORM's unit of work."""
    conn.execute(_INSERT, audit_values(user_id, action, entity, entity_id, before, after))


def list_audit(session: Session, limit: int, entity: str | None = None, entity_id: str | None = None,
               user_id: int | None = None, action: str | None = None, since: datetime | None = None,
               until: datetime | None = None, before_id: int | None = None) -> list[AuditRecord]:
    """Audit records matching the filters, newest first; `before_id` pages back in time."""
    stmt = select(AuditRecord).order_by(AuditRecord.id.desc()).limit(limit)
    for column, value in ((AuditRecord.entity, entity), (AuditRecord.entity_id, entity_id),
                          (AuditRecord.user_id, user_id), (AuditRecord.action, action)):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(AuditRecord.at >= since)
    if until is not None:
        stmt = stmt.where(AuditRecord.at < until)
    if before_id is not None:
        stmt = stmt.where(AuditRecord.id < before_id)
    return list(session.scalars(stmt))
