"""The alert lifecycle beyond one series' level: dismissals that hold, series that vanish, history."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.audit import AuditRecord
from core.clock import shift_month
from core.models import utcnow
from tests.series_data import DROP, MILK, csv_rows, load
from warning.alerts import act_on_alert
from warning.engine import DEFAULT_SETTINGS
from warning.models import ACTIVE_STATUSES, Alert
from warning.scan import run_scan

STABLE, DEGRADING = "330106", "330212"
AS_OF = "2024-06"


@pytest.fixture
def world(db_session, admin):
    user, _ = admin
    rows = []
    for i, month in enumerate(shift_month(AS_OF, k) for k in range(-23, 1)):
        rows.append(csv_rows(STABLE, month, 20, 1 if i % 4 == 0 else 0))
        rows.append(csv_rows(DEGRADING, month, 20, DROP[i - 18] if i >= 18 else (1 if i % 4 == 0 else 0)))
    load(db_session, user.id, "".join(rows))
    return user


def series_alerts(session, region=DEGRADING, category=MILK) -> list[Alert]:
    session.expire_all()
    return list(session.scalars(select(Alert).where(Alert.region_code == region, Alert.category_code == category)
                                .order_by(Alert.id)))


def dismiss(session, alert: Alert, user_id: int, snooze_days: float = 90) -> Alert:
    return act_on_alert(session, alert.id, "dismiss", "sampling error at the lab", user_id, None, snooze_days)


def test_a_dismissal_holds_for_the_same_level_then_lapses(db_session, world):
    run_scan(db_session, AS_OF, "test")
    [alert] = series_alerts(db_session)
    dismissed = dismiss(db_session, alert, world.id)
    assert dismissed.dismissed_until == pytest.approx(utcnow() + timedelta(days=90), abs=timedelta(minutes=1))

    again = run_scan(db_session, AS_OF, "test")
    assert [a.status for a in series_alerts(db_session)] == ["dismissed"], "not re-raised by the next scan"
    assert again.alerts_raised == 0

    alert = series_alerts(db_session)[0]
    alert.dismissed_until = utcnow() - timedelta(seconds=1)  # the snooze has passed
    db_session.commit()
    run_scan(db_session, AS_OF, "test")
    old, new = series_alerts(db_session)
    assert (old.status, new.status, new.level) == ("dismissed", "open", old.level)
    assert [e.action for e in new.events] == ["raised"] and new.events[0].note is None


def test_a_dismissal_gives_way_when_the_level_rises_above_it(db_session, world):
    run_scan(db_session, AS_OF, "test")
    [alert] = series_alerts(db_session)
    reached = alert.level
    assert reached != "yellow", "precondition: the degrading series is above yellow"
    alert.level = "yellow"  # as if it had been dismissed at yellow
    db_session.commit()
    dismiss(db_session, alert, world.id)
    run_scan(db_session, AS_OF, "test")
    old, new = series_alerts(db_session)
    assert (old.status, new.status, new.level) == ("dismissed", "open", reached)
    assert new.events[0].note == f"above the level of dismissed alert {old.id}"


def test_the_snooze_is_a_setting(db_session, world, client, make_user, app):
    run_scan(db_session, AS_OF, "test")
    [alert] = series_alerts(db_session)
    _, supervisor = make_user("supervisor", region="330200")
    app.config["ALERT_DISMISS_SNOOZE_DAYS"] = 7
    try:
        response = client.post(f"/api/alerts/{alert.id}/dismiss", json={"reason": "duplicate"}, headers=supervisor)
    finally:
        app.config["ALERT_DISMISS_SNOOZE_DAYS"] = 90.0
    assert response.status_code == 200
    assert series_alerts(db_session)[0].dismissed_until == pytest.approx(utcnow() + timedelta(days=7),
                                                                         abs=timedelta(minutes=1))
    assert response.json["dismissed_until"]


def test_alerts_of_series_that_left_the_scan_window_are_resolved(db_session, world):
    run_scan(db_session, AS_OF, "test")
    assert series_alerts(db_session)[0].status == "open"
    later = shift_month(AS_OF, DEFAULT_SETTINGS.window)  # the degrading county has no batch in its window
    load(db_session, world.id, "".join(csv_rows(STABLE, shift_month(later, -k), 20, 1 if k % 4 == 0 else 0)
                                       for k in range(12)))
    scan = run_scan(db_session, later, "test")

    [alert] = series_alerts(db_session)
    assert alert.status == "resolved" and alert.last_scan_id == scan.id
    event = alert.events[-1]
    assert (event.action, event.scan_id, event.from_level) == ("resolved", scan.id, alert.level)
    assert later in event.note
    assert scan.series_assessed > 0 and scan.alerts_resolved >= 1
    still = db_session.scalars(select(Alert).where(Alert.status.in_(ACTIVE_STATUSES))).all()
    assert all(a.last_scan_id == scan.id for a in still), "every alert left open was assessed by the scan"


def test_every_change_is_history_and_user_actions_are_audited(db_session, world):
    first = run_scan(db_session, AS_OF, "test")
    [alert] = series_alerts(db_session)
    act_on_alert(db_session, alert.id, "acknowledge", "looking", world.id, None, 90.0)
    act_on_alert(db_session, alert.id, "escalate", "to the city", world.id, None, 90.0)
    dismiss(db_session, alert, world.id)
    [alert] = series_alerts(db_session)
    history = [(e.action, e.user_id, e.scan_id) for e in alert.events]
    assert history == [("raised", None, first.id), ("acknowledged", world.id, None),
                       ("escalated_by_user", world.id, None), ("dismissed", world.id, None)]
    audited = db_session.scalars(select(AuditRecord).where(AuditRecord.entity == "alert",
                                                           AuditRecord.entity_id == str(alert.id))
                                 .order_by(AuditRecord.id)).all()
    assert [(r.action, r.user_id, r.after["status"]) for r in audited] == [
        ("acknowledge", world.id, "acknowledged"), ("escalate", world.id, "escalated"),
        ("dismiss", world.id, "dismissed")]
    assert audited[-1].after["dismissed_until"] and audited[-1].after["note"] == "sampling error at the lab"
