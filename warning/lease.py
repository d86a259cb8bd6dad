"""Named leases in the database: one holder at a time, taken over once expired.

A conditional UPDATE (free or expired, or already ours) or else an INSERT that the primary key
makes exclusive; both work on SQLite and PostgreSQL. Each call commits its own change, so call
them outside any other unit of work.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import delete, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.models import utcnow
from warning.models import Lease


def acquire(session: Session, name: str, holder: str, ttl_seconds: float) -> bool:
    """Take the lease `name` for `ttl_seconds`; False while another holder's lease is live."""
    now = utcnow()
    expires = now + timedelta(seconds=ttl_seconds)
    taken = session.execute(
        update(Lease).where(Lease.name == name, or_(Lease.expires_at <= now, Lease.holder == holder))
        .values(holder=holder, expires_at=expires)
        .execution_options(synchronize_session=False)
    ).rowcount
    if taken:
        session.commit()
        return True
    try:
        session.add(Lease(name=name, holder=holder, expires_at=expires))
        session.commit()
    except IntegrityError:  # someone holds it (or took it between our two statements)
        session.rollback()
        return False
    return True


def release(session: Session, name: str, holder: str) -> bool:
    """Give the lease back if we still hold it; True if it was ours."""
    gone = session.execute(
        delete(Lease).where(Lease.name == name, Lease.holder == holder)
        .execution_options(synchronize_session=False)
    ).rowcount
    session.commit()
    return bool(gone)
