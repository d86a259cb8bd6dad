"""Warning scans end to end: data imported, series assessed, alerts raised, escalated, resolved."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from core.audit import AuditRecord
from core.clock import shift_month
from core.reference.trees import load_trees
from inspection.models import Enterprise
from tests.conftest import VALID_CODE, make_code
from tests.series_data import DROP, MILK, csv_rows, load
from warning import scan as scan_module
from warning import lease
from warning.models import Alert, Assessment, Scan
from warning.engine import DEFAULT_SETTINGS, assess
from warning.model_store import load_model
from warning.scan import SCAN_LEASE, ScanBusy, run_scan

STABLE, DEGRADING = "330106", "330212"  # Xihu (Hangzhou), Yinzhou (Ningbo)
AS_OF = "2024-06"


@pytest.fixture
def world(db_session, admin):
    """24 months to AS_OF: a stable series in Xihu, one degrading sharply in Yinzhou."""
    user, _ = admin
    months = [shift_month(AS_OF, k) for k in range(-23, 1)]
    rows = []
    for i, month in enumerate(months):
        rows.append(csv_rows(STABLE, month, 20, 1 if i % 4 == 0 else 0))
        bad = DROP[i - 18] if i >= 18 else (1 if i % 4 == 0 else 0)
        rows.append(csv_rows(DEGRADING, month, 20, bad))
    load(db_session, user.id, "".join(rows))
    return user


def open_alerts(session):
    return {(a.category_code, a.region_code): a for a in session.scalars(select(Alert))
            if a.status in ("open", "acknowledged", "escalated")}


def test_scan_raises_an_alert_on_the_degrading_series_only(db_session, world):
    scan = run_scan(db_session, AS_OF, "test")

    assert scan.status == "done" and scan.as_of == AS_OF and scan.series_assessed > 2
    alerts = open_alerts(db_session)
    assert (MILK, DEGRADING) in alerts
    assert (MILK, STABLE) not in alerts
    alert = alerts[(MILK, DEGRADING)]
    assert alert.level in ("yellow", "orange", "red") and alert.opened_scan_id == scan.id
    assert [e.action for e in alert.events] == ["raised"]
    assessed = db_session.scalar(select(Assessment).where(Assessment.category_code == MILK,
                                                          Assessment.region_code == DEGRADING))
    assert assessed.pass_rate < assessed.floor and len(assessed.forecast) == 3
    assert assessed.reasons["zh"] and assessed.reasons["en"]


def test_every_assessment_is_stored_as_the_engine_made_it(db_session, world):
    """The assessments go to the database column by column (COPY): nothing may be shifted."""
    scan = run_scan(db_session, AS_OF, "test")

    panel = scan_module._panel_of(db_session, load_trees(db_session), AS_OF, DEFAULT_SETTINGS.window, blacklist=True)
    model, _ = load_model(AS_OF, DEFAULT_SETTINGS, None)
    expected = assess(panel, DEFAULT_SETTINGS, model).set_index(["category", "region"])
    stored = db_session.scalars(select(Assessment).where(Assessment.scan_id == scan.id)).all()
    assert len(stored) == scan.series_assessed == len(expected)
    months = [shift_month(AS_OF, h) for h in (1, 2, 3)]
    for a in stored:
        e = expected.loc[(a.category_code, a.region_code)]
        assert (a.level, a.reasons) == (e["level"], {"zh": e["reason_zh"], "en": e["reason_en"]})
        assert [a.floor, a.pass_rate, a.pass_rate_lo, a.pass_rate_hi, a.slope, a.probability] == pytest.approx(
            [e["floor"], e["pass_rate"], e["pass_rate_lo"], e["pass_rate_hi"], e["trend_points_per_month"],
             e["prob_below"]])
        assert [f["month"] for f in a.forecast] == months
        assert [f[k] for f in a.forecast for k in ("rate", "lo", "hi")] == pytest.approx(
            [e[f"forecast_{h}{end}"] for h in (1, 2, 3) for end in ("", "_lo", "_hi")])


def test_a_second_scan_keeps_the_same_alert_and_recovery_resolves_it(db_session, world):
    first = run_scan(db_session, AS_OF, "test")
    second = run_scan(db_session, AS_OF, "test")
    alerts = db_session.scalars(select(Alert).where(Alert.region_code == DEGRADING,
                                                    Alert.category_code == MILK)).all()
    assert len(alerts) == 1 and alerts[0].last_scan_id == second.id != first.id
    assert second.alerts_raised == 0

    later = AS_OF
    for k in range(1, 13):  # a clean year
        later = shift_month(AS_OF, k)
        load(db_session, world.id, csv_rows(DEGRADING, later, 30, 0) + csv_rows(STABLE, later, 30, 0))
    third = run_scan(db_session, later, "test")
    db_session.expire_all()
    alert = db_session.get(Alert, alerts[0].id)
    assert alert.status == "resolved" and third.alerts_resolved >= 1
    assert alert.events[-1].action == "resolved"


def _state(session) -> list[tuple]:
    session.expire_all()
    return [(a.id, a.status, a.level, a.last_scan_id, a.group_id, len(a.events))
            for a in session.scalars(select(Alert).order_by(Alert.id))]


def test_a_backfill_records_assessments_but_leaves_the_alerts_alone(db_session, world, make_user, runner):
    from warning.notify.models import OutboxMessage
    from warning.notify.services import create_subscription

    chief, _ = make_user("supervisor")
    create_subscription(db_session, {"email": "chief@example.test"}, chief.id, None)
    current = run_scan(db_session, AS_OF, "test")
    alert = open_alerts(db_session)[(MILK, DEGRADING)]
    reached = alert.level
    alert.level = "yellow"  # as if a milder scan had raised it: a current scan would escalate it
    db_session.commit()
    before, notices = _state(db_session), db_session.scalar(select(func.count()).select_from(OutboxMessage))

    healthy = shift_month(AS_OF, -6)  # before the drop: a current scan would resolve the alert
    result = runner.invoke(args=["warning", "scan", "--as-of", healthy])
    assert result.exit_code == 0, result.output
    assert f"is a backfill (an earlier month than the newest scan's, {AS_OF})" in result.output
    assert "alerts left unchanged" in result.output
    still_bad = run_scan(db_session, shift_month(AS_OF, -1), "test")
    assert _state(db_session) == before, "no alert resolved, escalated or touched"
    assert db_session.scalar(select(func.count()).select_from(OutboxMessage)) == notices, "nobody notified"
    backfills = db_session.scalars(select(Scan).where(Scan.id != current.id).order_by(Scan.id)).all()
    assert [(s.as_of, s.backfill, s.settings["newest_as_of"]) for s in backfills] == [
        (healthy, True, AS_OF), (shift_month(AS_OF, -1), True, AS_OF)]
    assert all(s.series_assessed > 0 and s.alerts_raised == s.alerts_escalated == s.alerts_resolved == 0
               for s in backfills)
    levels = dict(db_session.execute(select(Assessment.scan_id, Assessment.level).where(
        Assessment.category_code == MILK, Assessment.region_code == DEGRADING)).all())
    assert levels[backfills[0].id] in ("none", "blue") and levels[still_bad.id] in ("yellow", "orange", "red")
    from warning.alerts import assessment_history
    assert [a.scan.as_of for a in assessment_history(db_session, MILK, DEGRADING)] == [
        AS_OF, shift_month(AS_OF, -1), healthy], "the latest month first, not the latest run"

    again = run_scan(db_session, AS_OF, "test")  # the newest month again is a current scan
    assert not again.backfill and again.alerts_escalated == 1
    assert db_session.get(Alert, alert.id).level == reached


def test_a_backfill_raises_no_alert(db_session, world):
    run_scan(db_session, AS_OF, "test")
    for alert in open_alerts(db_session).values():
        alert.status = "resolved"  # handled: a current scan would raise new alerts on the series
    db_session.commit()
    backfill = run_scan(db_session, shift_month(AS_OF, -1), "test")
    assert backfill.backfill and open_alerts(db_session) == {}
    current = run_scan(db_session, AS_OF, "test")
    assert not current.backfill and (MILK, DEGRADING) in open_alerts(db_session)


def test_a_month_not_over_yet_is_refused(db_session, runner):
    from core.clock import local_today, month_of

    for month in (month_of(local_today()), shift_month(month_of(local_today()), 1)):
        result = runner.invoke(args=["warning", "scan", "--as-of", month])
        assert result.exit_code == 2 and f"{month} is not over yet" in result.output
    assert db_session.scalar(select(func.count()).select_from(Scan)) == 0


def test_the_lease_refuses_a_second_holder_and_expires(db_session, world):
    assert lease.acquire(db_session, SCAN_LEASE, "other-worker", 60)
    assert not lease.acquire(db_session, SCAN_LEASE, "me", 60)
    with pytest.raises(ScanBusy, match="another scan is running"):
        run_scan(db_session, AS_OF, "me")
    assert db_session.scalar(select(func.count()).select_from(Scan)) == 0
    assert lease.acquire(db_session, SCAN_LEASE, "other-worker", -1)  # renewed, already expired
    assert lease.acquire(db_session, SCAN_LEASE, "me", 60)  # an expired lease is taken over
    assert not lease.release(db_session, SCAN_LEASE, "other-worker")
    assert lease.release(db_session, SCAN_LEASE, "me")


def test_a_failed_scan_leaves_nothing_behind(db_session, world, monkeypatch):
    first = run_scan(db_session, AS_OF, "test")
    before = [(a.id, a.status, a.level, a.last_scan_id, len(a.events)) for a in db_session.scalars(select(Alert))]

    def broken(*args, **kwargs):
        raise RuntimeError("engine down")

    monkeypatch.setattr("warning.scan.assess", broken)
    with pytest.raises(RuntimeError):
        run_scan(db_session, shift_month(AS_OF, -1), "test")
    db_session.expire_all()
    assert db_session.scalars(select(Scan.id)).all() == [first.id]
    assert {a.scan_id for a in db_session.scalars(select(Assessment))} == {first.id}
    after = [(a.id, a.status, a.level, a.last_scan_id, len(a.events)) for a in db_session.scalars(select(Alert))]
    assert after == before
    assert lease.acquire(db_session, SCAN_LEASE, "next", 60)  # the lease was given back


def _alert_id(session) -> int:
    return open_alerts(session)[(MILK, DEGRADING)].id


def test_alert_actions_are_checked_and_audited(db_session, world, client, make_user):
    run_scan(db_session, AS_OF, "test")
    alert_id = _alert_id(db_session)
    _, supervisor = make_user("supervisor", region="330200")  # Ningbo: the alert's city
    _, elsewhere = make_user("supervisor", region="330100")  # Hangzhou
    _, inspector = make_user("inspector", region="330212")

    assert client.post(f"/api/alerts/{alert_id}/acknowledge", json={}, headers=inspector).status_code == 403
    assert client.post(f"/api/alerts/{alert_id}/acknowledge", json={}, headers=elsewhere).status_code == 404
    assert client.get(f"/api/alerts/{alert_id}", headers=elsewhere).status_code == 404
    ok = client.post(f"/api/alerts/{alert_id}/acknowledge", json={"note": "checking"}, headers=supervisor)
    assert ok.status_code == 200 and ok.json["status"] == "acknowledged"
    again = client.post(f"/api/alerts/{alert_id}/acknowledge", json={}, headers=supervisor)
    assert again.status_code == 409
    assert client.post(f"/api/alerts/{alert_id}/dismiss", json={}, headers=supervisor).status_code == 422
    gone = client.post(f"/api/alerts/{alert_id}/dismiss", json={"reason": "lab mix-up"}, headers=supervisor)
    assert gone.status_code == 200 and gone.json["status"] == "dismissed"
    assert [e["action"] for e in gone.json["events"]] == ["raised", "acknowledged", "dismissed"]
    assert client.post(f"/api/alerts/{alert_id}/escalate", json={}, headers=supervisor).status_code == 409
    records = db_session.scalars(select(AuditRecord).where(AuditRecord.entity == "alert")).all()
    assert [(r.action, r.before["status"], r.after["status"]) for r in records] == [
        ("acknowledge", "open", "acknowledged"), ("dismiss", "acknowledged", "dismissed")]


def test_alert_list_detail_scans_and_series(db_session, world, client, make_user):
    run_scan(db_session, AS_OF, "test")
    alert_id = _alert_id(db_session)
    _, ningbo = make_user("inspector", region="330212")
    _, xihu = make_user("inspector", region="330106")

    listed = client.get("/api/alerts", query_string={"category": "food.dairy", "status": "open"}, headers=ningbo)
    assert listed.status_code == 200 and alert_id in [a["id"] for a in listed.json]
    assert all(a["region"] == DEGRADING for a in listed.json)
    assert client.get("/api/alerts", headers=xihu).json == []
    detail = client.get(f"/api/alerts/{alert_id}", headers=ningbo).json
    assert detail["events"][0]["action"] == "raised" and detail["assessments"][0]["as_of"] == AS_OF

    series = client.get(f"/api/series/{MILK}/{DEGRADING}", headers=ningbo)
    assert series.status_code == 200
    assert len(series.json["months"]) == 24 and series.json["months"][-1]["floor"] == pytest.approx(0.93)
    assert series.json["months"][-1]["pass_rate"] == pytest.approx(5 / 20)
    assert len(series.json["assessment"]["forecast"]) == 3
    assert client.get(f"/api/series/{MILK}/{DEGRADING}", headers=xihu).status_code == 404
    assert client.get(f"/api/series/no.such/{DEGRADING}", headers=ningbo).status_code == 404
    scans = client.get("/api/scans", headers=xihu)
    assert scans.status_code == 200 and scans.json[0]["as_of"] == AS_OF and scans.json[0]["run_by"] == "test"
    # the alerts are in Ningbo: Xihu's figures must not tell of them; Ningbo counts the ones it sees
    assert scans.json[0]["alerts_raised"] == 0 and scans.json[0]["series_assessed"] > 0
    seen_in_ningbo = len(client.get("/api/alerts", query_string={"limit": 200}, headers=ningbo).json)
    assert client.get("/api/scans", headers=ningbo).json[0]["alerts_raised"] == seen_in_ningbo > 0
    _, province = make_user("supervisor", region="330000")
    assert client.get("/api/scans", headers=province).json[0]["alerts_raised"] == \
        db_session.scalar(select(Scan.alerts_raised)) >= seen_in_ningbo


def test_the_scan_command_and_its_exit_codes(db_session, world, runner):
    result = runner.invoke(args=["warning", "scan", "--as-of", AS_OF])
    assert result.exit_code == 0, result.output
    assert "series assessed" in result.output and "alerts raised 1" in result.output
    import getpass
    import os
    run_by = db_session.scalar(select(Scan.run_by).order_by(Scan.id.desc()).limit(1))
    assert run_by.startswith(f"{getpass.getuser()}@") and run_by.endswith(f":{os.getpid()}:cli")  # who ran it
    assert lease.acquire(db_session, SCAN_LEASE, "someone-else", 60)
    busy = runner.invoke(args=["warning", "scan", "--as-of", AS_OF])
    assert busy.exit_code == 1 and "another scan is running" in busy.output
    lease.release(db_session, SCAN_LEASE, "someone-else")
    assert runner.invoke(args=["warning", "scan", "--as-of", "2024-13"]).exit_code == 2
    trained = runner.invoke(args=["warning", "train", "--as-of", AS_OF])
    assert trained.exit_code == 0 and "no model" in trained.output  # two series are too few
    assert "too few examples" in trained.output
    assert runner.invoke(args=["warning", "train", "--as-of", "2024-13"]).exit_code == 2


def test_the_worker_schedules_the_two_scans(app):
    from core.worker import build_scheduler

    jobs = {job.id: job for job in build_scheduler(app).get_jobs()}
    assert {"warning-scan-nightly", "warning-scan-month-close"} <= set(jobs)
    assert str(jobs["warning-scan-nightly"].trigger) == "cron[hour='2', minute='30']"
    assert str(jobs["warning-scan-month-close"].trigger) == "cron[day='1', hour='3', minute='0']"
    # the month's risk model is trained before the new month's first scan loads it
    assert str(jobs["warning-train-month-close"].trigger) == "cron[day='1', hour='1', minute='30']"


def test_the_scan_records_its_model_and_falls_back_to_classical_with_a_reason(db_session, world, tmp_path):
    from warning.engine import Settings
    from warning.scan import train_risk_model

    short = train_risk_model(db_session, AS_OF, str(tmp_path))  # two series: too few examples
    assert short["version"] == "classical-1" and "too few examples" in short["reason"]
    untrained = run_scan(db_session, AS_OF, "test", model_dir=str(tmp_path))
    assert untrained.model_version == "classical-1"
    assert "no risk model trained for 2024-06" in untrained.settings["model"]["reason"]

    learn = Settings(train_min_rows=50, train_min_positives=3, train_min_label_months=3)
    summary = train_risk_model(db_session, AS_OF, str(tmp_path), learn)
    assert summary["version"].startswith("sklearn-hgb-") and "reason" not in summary
    # It learnt from label months whose outcome (the next 3 months) was known at AS_OF.
    assert summary["label_months"][-1] == shift_month(AS_OF, -3) and summary["positives"] >= 3
    assert list(tmp_path.glob(f"risk-{AS_OF}-*.joblib"))
    scan = run_scan(db_session, AS_OF, "test", learn, model_dir=str(tmp_path))
    assert scan.model_version == summary["version"] and "reason" not in scan.settings["model"]
    # A later month without its own model yet uses this one and says so; an earlier month
    # never uses it (it was trained on what happened after that month).
    later = run_scan(db_session, shift_month(AS_OF, 2), "test", learn, model_dir=str(tmp_path))
    assert later.model_version == summary["version"]
    assert f"the model of {AS_OF} is used" in later.settings["model"]["reason"]
    earlier = run_scan(db_session, shift_month(AS_OF, -1), "test", learn, model_dir=str(tmp_path))
    assert earlier.model_version == "classical-1"


def test_a_scheduled_scan_first_trains_the_months_model_when_none_fits_the_settings(db_session, world, tmp_path):
    # An upgrade that changes the engine's settings orphans the stored models (their file names
    # carry the settings' key) and the month-close training is up to a month away: the scan
    # must not fall back to the classical engine and its thresholds meanwhile.
    from warning.engine import Settings
    from warning.scan import ensure_risk_model

    learn = Settings(train_min_rows=50, train_min_positives=3, train_min_label_months=3)
    first = ensure_risk_model(db_session, AS_OF, str(tmp_path), learn)
    assert first["version"].startswith("sklearn-hgb-")
    assert ensure_risk_model(db_session, AS_OF, str(tmp_path), learn) is None  # there already
    upgraded = learn.with_(label_alpha=0.1)
    again = ensure_risk_model(db_session, AS_OF, str(tmp_path), upgraded)
    assert again is not None and again["version"].startswith("sklearn-hgb-")  # trained anew
    scan = run_scan(db_session, AS_OF, "test", upgraded, model_dir=str(tmp_path))
    assert scan.model_version == again["version"]
    assert len(list(tmp_path.glob(f"risk-{AS_OF}-*.joblib"))) == 2


def test_the_workers_scan_goes_through_ensure_risk_model(app, db_session, world, tmp_path, monkeypatch):
    import warning.cli as cli

    asked = []
    monkeypatch.setattr(cli, "ensure_risk_model", lambda session, as_of, directory: asked.append(
        (as_of, directory)) or {"version": "classical-1", "reason": "too few examples"})
    monkeypatch.setitem(app.config, "WARNING_MODEL_DIR", str(tmp_path))
    cli.scheduled_scan()
    assert asked == [(None, str(tmp_path))]
    assert db_session.scalar(select(func.count()).select_from(Scan)) == 1
    assert db_session.scalar(select(Scan.run_by)).endswith(":scheduler")

    def broken(session, as_of, directory):
        raise PermissionError(directory)

    monkeypatch.setattr(cli, "ensure_risk_model", broken)
    cli.scheduled_scan()  # a failed training is logged; the scan still runs
    assert db_session.scalar(select(func.count()).select_from(Scan)) == 2


def test_the_scan_passes_each_series_share_of_blacklisted_producers(db_session, world, admin,
                                                                    monkeypatch):
    other = make_code("91330106MA2B3C4D6")
    rows = csv_rows(STABLE, AS_OF, 10, 0).replace(VALID_CODE, other)
    rows += csv_rows(STABLE, shift_month(AS_OF, -30), 10, 0).replace(VALID_CODE, other)  # not in the window
    load(db_session, admin[0].id, rows)
    db_session.scalar(select(Enterprise).where(Enterprise.credit_code == other)).blacklisted = True
    db_session.commit()
    seen = {}
    real_assess = scan_module.assess

    def spy(panel, *args, **kwargs):
        seen.update(zip(zip(panel.keys["category"], panel.keys["region"]),
                        panel.keys["blacklisted_share"]))
        return real_assess(panel, *args, **kwargs)

    monkeypatch.setattr(scan_module, "assess", spy)
    run_scan(db_session, AS_OF, "test")

    # 24 months x 20 batches in each county, plus the blacklisted producer's 10 in Xihu
    assert seen[(MILK, STABLE)] == pytest.approx(10 / 490)
    assert seen[(MILK, DEGRADING)] == 0
    assert seen[(MILK, "330100")] == pytest.approx(10 / 490)  # Hangzhou: Xihu only
    assert seen[("*", "330000")] == pytest.approx(10 / 970)
    assert seen[("food", "330000")] == pytest.approx(10 / 970)


def test_the_database_keeps_one_active_alert_per_series(db_session):
    from sqlalchemy.exc import IntegrityError

    scan = Scan(as_of=AS_OF, status="done", model_version="test")
    db_session.add(scan)
    db_session.flush()

    def alert(status: str, region: str = DEGRADING) -> Alert:
        return Alert(category_code=MILK, region_code=region, level="orange", status=status,
                     opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.9)

    db_session.add_all([alert("resolved"), alert("dismissed"), alert("open"), alert("open", STABLE)])
    db_session.commit()  # closed alerts do not count; other series do not count
    for status in ("open", "acknowledged", "escalated"):
        db_session.add(alert(status))
        with pytest.raises(IntegrityError):
            db_session.commit()
        db_session.rollback()
