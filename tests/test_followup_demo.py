"""`flask followup demo`: disposals, cases, a blacklisted enterprise on top of the demo data, once."""
from sqlalchemy import func, select

from followup.demo import seed_followup_demo
from followup.models import CalendarDay, Case, Disposal, Retest
from inspection.demo import seed_demo
from inspection.models import Batch, Enterprise


def test_followup_demo_fills_every_list_once(db_session):
    seed_demo(db_session, months=3)
    lines = seed_followup_demo(db_session)
    count = lambda model: db_session.scalar(select(func.count()).select_from(model))  # noqa: E731
    failed = db_session.scalar(select(func.count(Batch.id)).where(Batch.conclusion == "fail"))
    assert 0 < count(Disposal) <= failed
    assert db_session.scalar(select(func.count(Disposal.id)).where(Disposal.status == "closed")) > 0
    assert count(Case) >= 3 and count(Retest) == 1 and count(CalendarDay) > 50
    assert db_session.scalar(select(func.count(Enterprise.id)).where(Enterprise.blacklisted.is_(True))) >= 1
    assert any(line.startswith("cases:") for line in lines)
    # Seeded titles are data shown as is: Chinese, no English half.
    assert not any(any("a" <= ch.lower() <= "z" for ch in title) for title in db_session.scalars(select(Case.title)))
    again = seed_followup_demo(db_session)
    assert again[-1] == "follow-up demo data already present" and count(Case) >= 3
