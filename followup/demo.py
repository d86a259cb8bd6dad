"""Follow-up demo data on top of `flask demo seed`: the calendar, disposals of the failed batches
(most closed, some overdue), a retest and an objection, a few cases, a blacklisted enterprise."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime, time, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import audit
from core.auth.models import User
from core.clock import LOCAL_TZ, local_today
from core.models import utcnow
from followup.models import Case, Disposal
from followup.services import appeals, blacklist, cases
from followup.services.calendar_days import seed_official
from followup.services.common import add_months, report_date
from inspection.models import Batch
from warning.models import ACTIVE_STATUSES, Alert

SEVERITY_SHARES = (("minor", 0.3), ("general", 0.55), ("serious", 0.15))


def _local(day, hour: int = 9) -> datetime:
    """`hour` o'clock local time on `day`, but never later than now: a batch reported today is
    followed up at once when the demo runs before that hour (local midnight is 16:00 UTC)."""
    return min(datetime.combine(day, time(hour), tzinfo=LOCAL_TZ), utcnow())


def seed_followup_demo(session: Session, seed: int = 20261130) -> list[str]:
    """Idempotent: does nothing when follow-up records exist already."""
    lines = [f"calendar: {seed_official(session)} dates stored or changed"]
    if session.scalar(select(func.count(Disposal.id))) or session.scalar(select(func.count(Case.id))):
        return lines + ["follow-up demo data already present"]
    admin_id = session.scalar(select(User.id).where(User.username == "admin"))
    if admin_id is None:
        return lines + ["no demo users: run `flask demo seed` first"]
    rng, today = random.Random(seed), local_today()
    failed = list(session.scalars(select(Batch).where(Batch.conclusion == "fail", Batch.voided_at.is_(None))
                                  .order_by(Batch.id)))
    states: Counter = Counter()
    for batch in failed:
        reported = report_date(batch)
        notified = reported + timedelta(days=rng.randint(1, 4))
        if notified > today:
            states["new"] += 1
            continue
        severity = rng.choices([s for s, _ in SEVERITY_SHARES], [w for _, w in SEVERITY_SHARES])[0]
        disposal = Disposal(batch_id=batch.id, status="open", severity=severity, notified_on=notified,
                            unit_notified_on=notified, created_by_id=admin_id,
                            measures="责令下架，追溯同批次产品")
        closed_on = reported + timedelta(days=rng.randint(20, 85))
        if closed_on <= today and rng.random() < 0.92:
            disposal.cause = rng.choice(["原料验收不严", "生产工艺控制不当",
                                         "储存条件不当"])
            disposal.outcome = rng.choice(["责令整改", "立案处罚",
                                           "警告"])
            disposal.status, disposal.closed_on = "closed", closed_on
        states[disposal.status] += 1
        session.add(disposal)
        session.flush()
        audit(session, admin_id, "record", "disposal", batch.id, None,
              {"severity": severity, "notified_on": notified, "status": disposal.status, "demo": True})
    session.commit()
    lines.append(f"disposals: {states['closed']} closed, {states['open']} open, {states['new']} not yet notified")
    lines += _blacklist(session, admin_id, today)
    lines += _cases(session, rng, admin_id, today)
    lines += _appeals(session, admin_id, today)
    return lines


def _blacklist(session: Session, admin_id: int, today) -> list[str]:
    """Make the producer with the most failures in a year serious twice, and let the rule act."""
    since = add_months(today, -12)
    top = session.execute(select(Batch.enterprise_id, func.count()).where(
        Batch.conclusion == "fail", Batch.voided_at.is_(None), Batch.enterprise_id.is_not(None),
        func.coalesce(Batch.reported_on, Batch.sampled_on) >= since).group_by(Batch.enterprise_id)
        .order_by(func.count().desc(), Batch.enterprise_id).limit(1)).first()
    if top is not None:
        ids = session.scalars(select(Batch.id).where(Batch.enterprise_id == top[0], Batch.conclusion == "fail",
                                                     func.coalesce(Batch.reported_on, Batch.sampled_on) >= since)
                              .order_by(Batch.sampled_on.desc()).limit(2)).all()
        for disposal in session.scalars(select(Disposal).where(Disposal.batch_id.in_(ids))):
            before = disposal.severity
            disposal.severity, disposal.updated_at, disposal.updated_by_id = "serious", utcnow(), admin_id
            audit(session, admin_id, "record", "disposal", disposal.batch_id, {"severity": before},
                  {"severity": "serious", "demo": True})
        session.commit()
    entries = blacklist.apply_rules(session, today=today)
    return [f"blacklist: {len(entries)} enterprises added by rule"]


def _cases(session: Session, rng: random.Random, admin_id: int, today) -> list[str]:
    recent = list(session.scalars(select(Batch).where(
        Batch.conclusion == "fail", Batch.voided_at.is_(None), Batch.enterprise_id.is_not(None),
        Batch.reported_on >= today - timedelta(days=60), Batch.category_code.like("food.%"))
        .order_by(Batch.reported_on.desc(), Batch.id).limit(3)))
    made = []
    if len(recent) >= 3:
        one, two, three = recent
        recall = cases.open_case(session, {
            "kind": "recall", "title": f"{one.product or '产品'} 一级召回", "batch_ids": [one.id], "level": "I",
            "quantity_concerned": 2400, "unit": "件", "distribution": [one.region_code],
            "opened_at": _local(one.reported_on)}, admin_id, None)
        cases.record_action(session, recall.id, {"what": "发布召回公告，通知经销商下架", "started": True,
                                                 "at": _local(one.reported_on, 15)}, admin_id, None)
        cases.transition(session, recall.id, {"to": "investigating"}, admin_id, None)
        cases.transition(session, recall.id, {"to": "action_taken", "note": "已下架"}, admin_id, None)
        made.append(recall)
        closed = cases.open_case(session, {
            "kind": "recall", "title": f"{two.product or '产品'} 三级召回", "batch_ids": [two.id], "level": "III",
            "quantity_concerned": 600, "unit": "件", "opened_at": _local(two.reported_on)}, admin_id, None)
        cases.record_action(session, closed.id, {"what": "启动召回", "started": True,
                                                 "at": _local(two.reported_on, 16)}, admin_id, None)
        for step in ("investigating", "action_taken"):
            cases.transition(session, closed.id, {"to": step}, admin_id, None)
        cases.transition(session, closed.id, {"to": "closed", "outcome": "召回完成", "quantity_recovered": 570,
                                              "recovered_disposal": "监督销毁"},
                         admin_id, None)
        made.append(closed)
        made.append(cases.open_case(session, {"kind": "traceability", "title": f"{three.product or '产品'} 追溯调查",
                                              "batch_ids": [three.id]}, admin_id, None))
    alert = session.scalar(select(Alert).where(Alert.status.in_(ACTIVE_STATUSES)).order_by(Alert.id).limit(1))
    if alert is not None:
        made.append(cases.open_case(session, {"kind": "traceability", "title": "预警核查",
                                              "alert_id": alert.id}, admin_id, None))
    return [f"cases: {len(made)} opened ({', '.join(f'{c.kind} {c.status}' for c in made)})"]


def _appeals(session: Session, admin_id: int, today) -> list[str]:
    batch = session.scalar(select(Batch).join(Disposal, Disposal.batch_id == Batch.id).where(
        Batch.conclusion == "fail", Disposal.status == "open", Disposal.notified_on <= today - timedelta(days=1))
        .order_by(Disposal.notified_on.desc(), Batch.id).limit(1))
    if batch is None:
        return ["retests: no notified failure to demonstrate one"]
    notified = session.scalar(select(Disposal.notified_on).where(Disposal.batch_id == batch.id))
    appeals.raise_objection(session, batch.id, {"subject": "sampling", "grounds": "抽样时未现场封样",
                                                "raised_on": notified}, admin_id, None)
    retest = appeals.apply_for_retest(session, batch.id, {"applied_on": notified + timedelta(days=1),
                                                          "laboratory": "浙江省复检实验室",
                                                          "applicant": "企业"}, admin_id, None)
    return [f"retests: retest {retest.id} requested for batch {batch.id}; objection recorded"]
