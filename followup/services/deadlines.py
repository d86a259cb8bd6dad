"""Recall deadlines from the level and the rules (settings), and the overdue flags they give.

Food and farm produce (食品召回管理办法): start within 24 / 48 / 72 hours of the case being
opened, complete within 10 / 20 / 30 working days, for levels I / II / III. Drugs (药品召回管理办法,
2022): notify distributors and users within 1 / 3 / 7 days; no completion deadline is set by
the rules. Other products: no deadline. Traceability cases have none.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from core.clock import LOCAL_TZ, local_today
from core.models import utcnow
from followup.calendar import WorkCalendar
from followup.models import Case
from followup.settings import FollowupSettings

FOOD_RULES = ("food", "farm")
FINISHED = ("closed", "cancelled")


def recall_deadlines(kind: str, product_type: str, level: str | None, opened_at: datetime,
                     settings: FollowupSettings, calendar: WorkCalendar) -> tuple[datetime | None, date | None]:
    """(start due at, complete due on) for a case."""
    if kind != "recall" or level is None:
        return None, None
    if product_type in FOOD_RULES:
        start = opened_at + timedelta(hours=settings.food_recall_start_hours[level])
        opened_local = opened_at.astimezone(LOCAL_TZ).date()
        return start, calendar.add_working_days(opened_local, settings.food_recall_complete_working_days[level])
    if product_type == "drug":
        return opened_at + timedelta(days=settings.drug_recall_notify_days[level]), None
    return None, None


def start_overdue(case: Case, now: datetime | None = None) -> bool:
    """Started (or, still unstarted, now) after the start deadline."""
    if case.start_due_at is None or case.status == "cancelled":
        return False
    if case.started_at is None and case.status == "closed":
        return False
    return (case.started_at or now or utcnow()) > case.start_due_at


def complete_overdue(case: Case, today: date | None = None) -> bool:
    """Closed (or, still open, today) after the completion deadline."""
    if case.complete_due_on is None or case.status == "cancelled":
        return False
    finished = case.closed_at.astimezone(LOCAL_TZ).date() if case.closed_at else (today or local_today())
    return finished > case.complete_due_on
