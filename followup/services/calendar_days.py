"""Working-day calendar maintenance: per-date overrides set by administrators (audited)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import audit
from core.errors import ValidationFailed
from core.messages import N_
from core.models import utcnow
from followup.holidays import OFFICIAL
from followup.models import CalendarDay

TO_BEFORE_FROM = N_("must not precede 'from'")
NO_OFFICIAL = N_("no official calendar for %(year)s is bundled")


def list_days(session: Session, first: date, last: date) -> list[CalendarDay]:
    """The overrides between two dates, inclusive."""
    if last < first:
        raise ValidationFailed.on("to", TO_BEFORE_FROM)
    return list(session.scalars(select(CalendarDay).where(CalendarDay.day.between(first, last))
                                .order_by(CalendarDay.day)))


def _set(session: Session, day: date, working: bool, note: str | None, user_id: int | None) -> CalendarDay:
    row = session.get(CalendarDay, day)
    before = {"working": row.working, "note": row.note} if row else None
    if row is None:
        row = CalendarDay(day=day)
        session.add(row)
    row.working, row.note, row.updated_at, row.updated_by_id = working, note, utcnow(), user_id
    audit(session, user_id, "set", "calendar_day", day.isoformat(), before, {"working": working, "note": note})
    return row


def set_day(session: Session, day: date, working: bool, note: str | None, user_id: int) -> CalendarDay:
    """Declare a date a working day or a day off (a holiday, a make-up working day)."""
    row = _set(session, day, working, (note or "").strip() or None, user_id)
    session.commit()
    return row


def seed_official(session: Session, years: list[int] | None = None, user_id: int | None = None) -> int:
    """Store the official holidays and make-up days of the years known (idempotent); count the changes."""
    changed = 0
    for year in years or sorted(OFFICIAL):
        if year not in OFFICIAL:
            raise ValidationFailed.on("year", NO_OFFICIAL(year=year))
        for day, working, note in OFFICIAL[year]:
            row = session.get(CalendarDay, day)
            if row is None or row.working != working or row.note != note:
                _set(session, day, working, note, user_id)
                changed += 1
    session.commit()
    return changed
