"""Working-day calendar and disposals of failed batches: deadlines, states, closing rules, scope."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.clock import local_today
from followup.calendar import WorkCalendar, load_calendar
from followup.holidays import OFFICIAL
from followup.services.calendar_days import seed_official
from followup.services.common import add_months
from tests.followup_data import days_ago, record_failed


def test_working_days_follow_weekends_holidays_and_make_up_days(db_session):
    seed_official(db_session)
    cal = load_calendar(db_session)
    assert not cal.is_working(date(2025, 10, 3))  # National Day holiday, a Friday
    assert cal.is_working(date(2025, 10, 11))  # make-up Saturday
    assert not cal.is_working(date(2025, 10, 12))  # an ordinary Sunday
    assert cal.is_working(date(2025, 10, 9))  # an ordinary Thursday
    # Told on Tuesday 30 Sep 2025: 7 working days skip the 1-8 October holiday and count Sat 11 Oct.
    assert cal.add_working_days(date(2025, 9, 30), 7) == date(2025, 10, 16)
    assert cal.working_days_between(date(2025, 9, 30), date(2025, 10, 16)) == 7
    # 2026 Spring Festival: 15-23 Feb off, Sat 14 Feb and Sat 28 Feb worked.
    assert cal.add_working_days(date(2026, 2, 13), 1) == date(2026, 2, 14)
    assert cal.add_working_days(date(2026, 2, 14), 1) == date(2026, 2, 24)


def test_official_calendar_is_consistent():
    for year, days in OFFICIAL.items():
        seen = [d for d, _, _ in days]
        assert len(seen) == len(set(seen)) and all(d.year == year for d in seen)
        for day, working, _ in days:  # a make-up working day is always a weekend day
            assert not working or day.weekday() >= 5


def test_seeding_is_idempotent(db_session):
    first = seed_official(db_session, [2026])
    assert first == len(OFFICIAL[2026])
    assert seed_official(db_session, [2026]) == 0


def test_weekday_rule_without_overrides():
    cal = WorkCalendar({})
    assert cal.add_working_days(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday -> Monday


@pytest.mark.parametrize("day, months, expected", [
    (date(2025, 11, 30), 3, date(2026, 2, 28)), (date(2025, 1, 31), 1, date(2025, 2, 28)),
    (date(2024, 11, 30), 3, date(2025, 2, 28)), (date(2025, 3, 15), 3, date(2025, 6, 15)),
    (date(2025, 12, 1), -3, date(2025, 9, 1)),
])
def test_add_months_clamps_to_month_end(day, months, expected):
    assert add_months(day, months) == expected


def test_calendar_api_admin_sets_a_day_and_others_read(client, admin, make_user):
    _, h = admin
    response = client.put("/api/calendar/2027-02-06", json={"working": True, "note": "调休上班"}, headers=h)
    assert response.status_code == 200 and response.json["working"] is True
    _, agency = make_user("agency", region="330106")
    listed = client.get("/api/calendar?from=2027-01-01&to=2027-12-31", headers=agency).json
    assert [d["day"] for d in listed] == ["2027-02-06"]
    assert client.put("/api/calendar/2027-02-07", json={"working": True}, headers=agency).status_code == 403
    bad = client.put("/api/calendar/2027-13-01", json={"working": True}, headers=h)
    assert bad.status_code == 422 and "day" in bad.json["errors"]


def states(client, h, status, **params):
    query = "&".join(f"{k}={v}" for k, v in {"status": status, **params}.items())
    response = client.get(f"/api/disposals?{query}", headers=h)
    assert response.status_code == 200, response.json
    return {row["sample_no"]: row for row in response.json}


def test_open_due_and_overdue_lists(client, admin):
    _, h = admin
    today = local_today()
    fresh = record_failed(client, h, today - timedelta(days=5), sample_no="FRESH")
    due = record_failed(client, h, add_months(today, -3) + timedelta(days=10), sample_no="DUE")
    late = record_failed(client, h, add_months(today, -3) - timedelta(days=1), sample_no="LATE")
    client.post("/api/batches", json={**_passing(), "sample_no": "PASSING"}, headers=h)
    opened = states(client, h, "open")
    assert set(opened) == {"FRESH", "DUE", "LATE"}
    assert opened["LATE"]["state"] == "overdue" and opened["DUE"]["state"] == "due"
    assert opened["FRESH"]["state"] == "open"
    assert opened["FRESH"]["deadline"] == add_months(date.fromisoformat(fresh["reported_on"]), 3).isoformat()
    assert list(opened) == ["LATE", "DUE", "FRESH"]  # earliest deadline first
    assert set(states(client, h, "due")) == {"DUE"}
    assert set(states(client, h, "overdue")) == {"LATE"}
    assert opened["DUE"]["days_left"] == (date.fromisoformat(opened["DUE"]["deadline"]) - today).days
    assert due["id"] != late["id"]


def _passing():
    from tests.conftest import batch_payload

    return batch_payload()


def test_deadline_counts_from_sampling_when_no_report_date(client, admin):
    _, h = admin
    batch = record_failed(client, h, sample_no="NOREPORT", reported_on=None)
    row = client.get(f"/api/disposals/{batch['id']}", headers=h).json
    assert row["deadline"] == add_months(date.fromisoformat(batch["sampled_on"]), 3).isoformat()


def test_closing_needs_notification_cause_and_outcome(client, admin, db_session):
    _, h = admin
    batch = record_failed(client, h)
    refused = client.post(f"/api/disposals/{batch['id']}/close", json={"outcome": "整改"}, headers=h)
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"notified_on", "cause"}
    recorded = client.post(f"/api/disposals/{batch['id']}", headers=h,
                           json={"notified_on": days_ago(8), "cause": "杀菌工艺失控", "severity": "serious"})
    assert recorded.status_code == 200 and recorded.json["severity"] == "serious"
    closed = client.post(f"/api/disposals/{batch['id']}/close", json={"outcome": "责令整改"}, headers=h)
    assert closed.status_code == 200 and closed.json["state"] == "closed"
    assert states(client, h, "open") == {}
    assert set(states(client, h, "closed")) == {batch["sample_no"]}
    again = client.post(f"/api/disposals/{batch['id']}", json={"cause": "x"}, headers=h)
    assert again.status_code == 409
    from core.audit import AuditRecord
    from sqlalchemy import select
    actions = db_session.scalars(select(AuditRecord.action).where(AuditRecord.entity == "disposal")).all()
    assert actions == ["record", "close"]


def test_refusals_on_dates_and_batches(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    future = (local_today() + timedelta(days=1)).isoformat()
    response = client.post(f"/api/disposals/{batch['id']}", json={"notified_on": future}, headers=h)
    assert response.status_code == 422 and "notified_on" in response.json["errors"]
    early = client.post(f"/api/disposals/{batch['id']}", json={"notified_on": "2000-01-01"}, headers=h)
    assert early.status_code == 422
    passing = client.post("/api/batches", json=_passing(), headers=h).json
    assert client.post(f"/api/disposals/{passing['id']}", json={}, headers=h).status_code == 409
    assert client.get("/api/disposals/999999", headers=h).status_code == 404


def test_voided_batches_leave_the_lists(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    client.post(f"/api/batches/{batch['id']}/void", json={"reason": "重复录入"}, headers=h)
    assert states(client, h, "open") == {}


def test_region_scope_and_summary(client, admin, make_user):
    _, h = admin
    today = local_today()
    record_failed(client, h, sample_no="XIHU", region="330106")
    record_failed(client, h, add_months(today, -3) - timedelta(days=2), sample_no="NINGBO", region="330212")
    _, county = make_user("agency", region="330106")
    assert set(states(client, county, "open")) == {"XIHU"}
    ningbo = states(client, h, "open")["NINGBO"]["batch_id"]
    assert client.get(f"/api/disposals/{ningbo}", headers=county).status_code == 404
    summary = {r["region"]: r for r in client.get("/api/disposals/summary", headers=h).json}
    assert summary["330100"]["open"] == 1 and summary["330100"]["overdue"] == 0
    assert summary["330200"]["open"] == 1 and summary["330200"]["overdue"] == 1
    assert client.get("/api/disposals/summary?region=330200", headers=county).json == []


def test_overdue_csv_export(client, admin):
    _, h = admin
    record_failed(client, h, add_months(local_today(), -4), sample_no="=CMD")
    response = client.get("/api/disposals?status=overdue&format=csv", headers=h)
    assert response.status_code == 200 and response.mimetype == "text/csv"
    lines = response.data.decode("utf-8-sig").splitlines()
    assert lines[0].startswith("batch_id,sample_no") and len(lines) == 2
    assert ",'=CMD," in lines[1]  # formula-safe


def test_calendar_seed_command(runner):
    first = runner.invoke(args=["followup", "calendar", "seed", "--year", "2025"])
    assert first.exit_code == 0 and f"{len(OFFICIAL[2025])} dates" in first.output
    assert "0 dates" in runner.invoke(args=["followup", "calendar", "seed", "--year", "2025"]).output


@pytest.mark.parametrize("path", ["/api/disposals", "/api/disposals/summary", "/api/cases", "/api/blacklist",
                                  "/api/sampling-plan"])
def test_an_unknown_region_filter_is_refused_not_answered_empty(client, admin, path):
    _, h = admin
    response = client.get(f"{path}?region=330160", headers=h)  # 330106 mistyped: not "nothing there"
    assert response.status_code == 422, response.json
    assert response.json["code"] == 422 and response.json["errors"] == {"region": ["unknown region code '330160'"]}



@pytest.mark.parametrize("path, field", [
    ("/api/batches", "category"), ("/api/batches", "region"), ("/api/stats/pass-rates", "category"),
    ("/api/stats/pass-rates", "region"), ("/api/alerts", "category"), ("/api/alerts", "region"),
    ("/api/floors", "category"), ("/api/disposals", "region"), ("/api/disposals/summary", "region"),
    ("/api/cases", "region"), ("/api/blacklist", "region"), ("/api/sampling-plan", "region")])
def test_an_empty_filter_is_refused_alike_on_every_list(client, admin, path, field):
    """`?region=` from a half-filled script is a mistake on every list, not "no filter" on some
    lists and an error on others."""
    _, h = admin
    response = client.get(f"{path}?{field}=", headers=h)
    assert response.status_code == 422, response.json
    assert list(response.json["errors"]) == [field], response.json
