"""Working days: Monday to Friday, unless an administrator's per-date override says otherwise
(public holidays off, the weekend days worked around them on)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from followup.models import CalendarDay


@dataclass(frozen=True)
class WorkCalendar:
    overrides: dict[date, bool]

    def is_working(self, day: date) -> bool:
        return self.overrides.get(day, day.weekday() < 5)

    def add_working_days(self, start: date, n: int) -> date:
        """The n-th working day after `start` (start itself does not count)."""
        day, left = start, n
        while left > 0:
            day += timedelta(days=1)
            if self.is_working(day):
                left -= 1
        return day

    def working_days_between(self, start: date, end: date) -> int:
        """Working days after `start` up to and including `end` (0 when end <= start)."""
        count, day = 0, start
        while day < end:
            day += timedelta(days=1)
            count += self.is_working(day)
        return count


def load_calendar(session: Session) -> WorkCalendar:
    return WorkCalendar({row.day: row.working for row in session.scalars(select(CalendarDay))})
