"""`flask followup demo`: disposals, cases, a blacklisted enterprise on top of the demo data, once."""
from sqlalchemy import func, select

from followup.demo import seed_followup_demo
from followup.models import CalendarDay, Case, Disposal, Retest
from inspection.demo import seed_demo
from inspection.models import Batch, Enterprise
from tests.series_data import MILK
from tests.web_helpers import seed_alert


def test_followup_demo_fills_every_list_once(db_session):
    seed_demo(db_session, months=3)
    seed_alert(db_session, MILK, "330106")  # the demo's first scan raises alerts; one is followed up
    db_session.commit()
    lines = seed_followup_demo(db_session)
    count = lambda model: db_session.scalar(select(func.count()).select_from(model))  # noqa: E731
    failed = db_session.scalar(select(func.count(Batch.id)).where(Batch.conclusion == "fail"))
    assert 0 < count(Disposal) <= failed
    assert db_session.scalar(select(func.count(Disposal.id)).where(Disposal.status == "closed")) > 0
    assert count(Case) >= 3 and count(Retest) == 1 and count(CalendarDay) > 50
    assert db_session.scalar(select(func.count(Enterprise.id)).where(Enterprise.blacklisted.is_(True))) >= 1
    assert any(line.startswith("cases:") for line in lines)
    # Seeded texts are data shown as is: Chinese, no English half ("预警核查 / alert follow-up").
    texts = [*db_session.scalars(select(Case.title)), *db_session.scalars(select(Case.recovered_disposal)),
             *db_session.scalars(select(Disposal.cause)), *db_session.scalars(select(Disposal.outcome)),
             *db_session.scalars(select(Disposal.measures)), *db_session.scalars(select(Retest.laboratory))]
    assert "预警核查" in texts and any(texts)
    assert not [t for t in texts if t and any("a" <= ch.lower() <= "z" for ch in t)]
    again = seed_followup_demo(db_session)
    assert again[-1] == "follow-up demo data already present" and count(Case) >= 3


def test_every_demo_disposal_reads_in_the_audit_trail_as_it_is_stored(db_session):
    """The demo makes two failures of one producer serious so the blacklist rule acts: that
    change is audited like the disposals it seeds (the trail's latest severity is the row's)."""
    from core.audit import AuditRecord

    seed_demo(db_session, months=3)
    seed_followup_demo(db_session)
    latest = {}
    for record in db_session.scalars(select(AuditRecord).where(AuditRecord.entity == "disposal")
                                     .order_by(AuditRecord.id)):
        latest[int(record.entity_id)] = record
    disposals = db_session.scalars(select(Disposal)).all()
    assert any(d.severity == "serious" for d in disposals)
    assert {d.batch_id: d.severity for d in disposals} == {
        d.batch_id: latest[d.batch_id].after["severity"] for d in disposals}
    assert all(latest[d.batch_id].user_id == d.created_by_id for d in disposals)
