"""Recall and traceability cases: opening, deadlines from the rules, workflow, refusals, scope, CSV."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from core.clock import LOCAL_TZ
from followup.calendar import WorkCalendar
from followup.services.calendar_days import seed_official
from followup.services.deadlines import recall_deadlines
from followup.settings import load_settings
from tests.conftest import batch_payload, make_code
from tests.followup_data import record_failed


def open_recall(client, h, batch_id, **extra):
    body = {"kind": "recall", "title": "纯牛奶召回", "batch_ids": [batch_id], "level": "II",
            "quantity_concerned": 1200, "unit": "盒", "distribution": ["330106", "330212"], **extra}
    response = client.post("/api/cases", json=body, headers=h)
    assert response.status_code == 201, response.json
    return response.json


def move(client, h, case_id, to, **extra):
    return client.post(f"/api/cases/{case_id}/transition", json={"to": to, **extra}, headers=h)


@pytest.mark.parametrize("level, hours, working_days", [("I", 24, 10), ("II", 48, 20), ("III", 72, 30)])
def test_food_recall_deadlines(app, level, hours, working_days):
    with app.app_context():
        settings = load_settings()
    # Opened Monday 29 Sep 2025 10:00 local, just before the National Day holiday (1-8 Oct).
    opened = datetime(2025, 9, 29, 10, tzinfo=LOCAL_TZ)
    calendar = WorkCalendar({date(2025, 10, d): False for d in range(1, 9)} | {date(2025, 10, 11): True})
    start, complete = recall_deadlines("recall", "food", level, opened, settings, calendar)
    assert start == opened + timedelta(hours=hours)
    assert complete == calendar.add_working_days(date(2025, 9, 29), working_days)
    if level == "I":  # 30 Sep, 9, 10, 11 (Sat, worked), 13-17, 20 Oct
        assert complete == date(2025, 10, 20)


@pytest.mark.parametrize("level, days", [("I", 1), ("II", 3), ("III", 7)])
def test_drug_recall_notify_deadlines(app, level, days):
    with app.app_context():
        settings = load_settings()
    opened = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
    assert recall_deadlines("recall", "drug", level, opened, settings, WorkCalendar({})) == (
        opened + timedelta(days=days), None)
    assert recall_deadlines("traceability", "drug", None, opened, settings, WorkCalendar({})) == (None, None)


def test_deadlines_are_settings(app):
    with app.app_context():
        app.config["FOLLOWUP_DRUG_RECALL_NOTIFY_DAYS"] = {"I": 2, "II": 5, "III": 10}
        try:
            settings = load_settings()
        finally:
            app.config["FOLLOWUP_DRUG_RECALL_NOTIFY_DAYS"] = {"I": 1, "II": 3, "III": 7}
    opened = datetime(2025, 3, 3, 9, tzinfo=timezone.utc)
    assert recall_deadlines("recall", "drug", "I", opened, settings, WorkCalendar({}))[0] == opened + timedelta(days=2)


def test_recall_from_a_failed_batch_through_the_workflow(client, admin, db_session):
    seed_official(db_session)
    _, h = admin
    batch = record_failed(client, h)
    case = open_recall(client, h, batch["id"], opened_at="2025-09-29T10:00:00+08:00")
    assert case["source"] == "batch" and case["region"] == "330106" and case["product_type"] == "food"
    assert case["enterprise_id"] == batch["enterprise"]["id"] and case["batch_ids"] == [batch["id"]]
    assert case["start_due_at"].startswith("2025-10-01T02:00:00")  # 48 hours, in UTC
    assert case["complete_due_on"] == "2025-11-03"  # 20 working days: 30 Sep, 9-11 Oct (11th a make-up Saturday) ...
    assert case["start_overdue"] is True and case["complete_overdue"] is True
    assert [e["kind"] for e in case["events"]] == ["opened"]
    started = client.post(f"/api/cases/{case['id']}/actions", headers=h,
                          json={"what": "发布召回公告", "at": "2025-09-30T09:00:00+08:00", "started": True})
    assert started.status_code == 200 and started.json["start_overdue"] is False
    twice = client.post(f"/api/cases/{case['id']}/actions", headers=h, json={"what": "再次启动", "started": True})
    assert twice.status_code == 409
    assert move(client, h, case["id"], "investigating").status_code == 200
    assert move(client, h, case["id"], "action_taken", note="已下架").status_code == 200
    refused = move(client, h, case["id"], "closed", outcome="召回完成")
    assert refused.status_code == 422
    assert set(refused.json["errors"]) == {"quantity_recovered", "recovered_disposal"}
    assert client.get(f"/api/cases/{case['id']}", headers=h).json["status"] == "action_taken"
    closed = move(client, h, case["id"], "closed", outcome="召回完成", quantity_recovered=1100,
                  recovered_disposal="监督销毁")
    assert closed.status_code == 200
    body = closed.json
    assert body["status"] == "closed" and body["quantity_recovered"] == 1100 and body["closed_at"]
    assert [(e["from_status"], e["to_status"]) for e in body["events"] if e["kind"] == "transition"] == [
        ("open", "investigating"), ("investigating", "action_taken"), ("action_taken", "closed")]
    assert all(e["user_id"] for e in body["events"])
    after = client.post(f"/api/cases/{case['id']}/actions", headers=h, json={"what": "补充材料"})
    assert after.status_code == 409


@pytest.mark.parametrize("path, to", [
    ((), "closed"), ((), "action_taken"), (("investigating",), "open"), (("investigating",), "closed"),
    (("cancelled",), "investigating"),
])
def test_invalid_transitions_are_refused(client, admin, path, to):
    _, h = admin
    batch = record_failed(client, h)
    case = open_recall(client, h, batch["id"])
    for step in path:
        assert move(client, h, case["id"], step, reason="重复立案").status_code == 200
    response = move(client, h, case["id"], to, outcome="x", quantity_recovered=1, recovered_disposal="x")
    assert response.status_code == 409 and "to" in response.json["errors"]


def test_cancelling_needs_a_reason(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    case = open_recall(client, h, batch["id"])
    assert move(client, h, case["id"], "cancelled").status_code == 422
    done = move(client, h, case["id"], "cancelled", reason="重复立案")
    assert done.status_code == 200 and done.json["cancel_reason"] == "重复立案"
    assert done.json["start_overdue"] is False


def test_traceability_case_closes_with_an_outcome_only(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    body = {"kind": "traceability", "title": "追溯同批次", "batch_ids": [batch["id"]]}
    assert client.post("/api/cases", json={**body, "level": "I"}, headers=h).status_code == 422
    case = client.post("/api/cases", json=body, headers=h).json
    assert case["start_due_at"] is None and case["complete_due_on"] is None
    move(client, h, case["id"], "investigating")
    move(client, h, case["id"], "action_taken")
    assert move(client, h, case["id"], "closed").status_code == 422
    assert move(client, h, case["id"], "closed", outcome="原料来源已查明").status_code == 200


def test_opening_refusals(client, admin):
    _, h = admin
    assert client.post("/api/cases", json={"kind": "recall", "title": "x", "level": "I"}, headers=h).status_code == 422
    batch = record_failed(client, h)
    no_level = client.post("/api/cases", json={"kind": "recall", "title": "x", "batch_ids": [batch["id"]]}, headers=h)
    assert no_level.status_code == 422 and "level" in no_level.json["errors"]
    assert client.post("/api/cases", json={"kind": "recall", "title": "x", "level": "I", "batch_ids": [999999]},
                       headers=h).status_code == 404



@pytest.mark.parametrize("code", ["999999", "３３０１０６", "330106\n"])  # no such region; fullwidth; final newline
def test_a_distribution_region_must_be_a_real_division(client, admin, code):
    _, h = admin
    batch = record_failed(client, h)
    body = {"kind": "recall", "title": "x", "level": "II", "batch_ids": [batch["id"]], "distribution": ["330106", code]}
    refused = client.post("/api/cases", json=body, headers=h)
    unknown = {"distribution": [f"unknown region code '{code}'"]}
    assert refused.status_code == 422 and refused.json["errors"] == unknown, refused.json
    assert client.get("/api/cases", headers=h).json == []  # nothing stored
    case = open_recall(client, h, batch["id"])
    changed = client.patch(f"/api/cases/{case['id']}", json={"distribution": [code]}, headers=h)
    assert changed.status_code == 422 and changed.json["errors"] == unknown, changed.json
    assert client.get(f"/api/cases/{case['id']}", headers=h).json["distribution"] == ["330106", "330212"]

def test_a_case_names_a_linked_batchs_producer_or_an_enterprise_the_officer_can_see(client, admin, make_user):
    _, h = admin
    own = record_failed(client, h, region="330106")  # Xihu batch of a Xihu producer
    upstream = record_failed(client, h, region="330106", enterprise_credit_code=make_code("91330212MA7N8B9C0"),
                             enterprise_name="宁波某乳业有限公司")  # sampled in Xihu, produced in Ningbo
    elsewhere = client.post("/api/batches", headers=h, json=batch_payload(
        region="330212", enterprise_credit_code=make_code("91330203MA2C3D4E5"), enterprise_name="宁波另一企业")).json
    _, xihu = make_user("agency", region="330106")

    def open_with(batch_id, enterprise_id):
        return client.post("/api/cases", headers=xihu, json={"kind": "recall", "level": "I", "title": "召回",
                                                             "batch_ids": [batch_id], "enterprise_id": enterprise_id})

    assert open_with(upstream["id"], upstream["enterprise"]["id"]).status_code == 201  # producer registered elsewhere
    assert open_with(own["id"], upstream["enterprise"]["id"]).status_code == 201  # sampled in Xihu: in view
    foreign = open_with(own["id"], elsewhere["enterprise"]["id"])  # neither linked nor ever sampled here
    unknown = open_with(own["id"], 99999)
    assert foreign.status_code == unknown.status_code == 422
    assert foreign.json["errors"] == {"enterprise_id": [f"no enterprise {elsewhere['enterprise']['id']}"]}
    credit = client.get(f"/api/enterprises/{elsewhere['enterprise']['id']}/credit", headers=h).json
    assert credit["recalls"] == {} and credit["score"] == 100.0


def test_update_changes_level_and_deadlines_and_is_kept(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    case = open_recall(client, h, batch["id"], opened_at="2025-03-03T09:00:00+08:00")
    other = record_failed(client, h)
    changed = client.patch(f"/api/cases/{case['id']}", headers=h,
                           json={"level": "I", "quantity_recovered": 300, "add_batch_ids": [other["id"]]})
    assert changed.status_code == 200
    body = changed.json
    assert body["level"] == "I" and body["start_due_at"].startswith("2025-03-04T01:00:00")
    assert body["batch_ids"] == sorted([batch["id"], other["id"]])
    assert body["events"][-1]["kind"] == "update" and body["events"][-1]["details"]["level"] == "I"
    negative = client.patch(f"/api/cases/{case['id']}", headers=h, json={"quantity_recovered": -1})
    assert negative.status_code == 422


def test_case_from_an_alert_and_scope(client, admin, make_user, db_session):
    from tests.test_api_fuzz import seed_alert

    seed_alert(db_session)
    _, h = admin
    case = client.post("/api/cases", headers=h, json={"kind": "traceability", "title": "预警核查", "alert_id": 1})
    assert case.status_code == 201 and case.json["source"] == "alert" and case.json["region"] == "330106"
    _, county = make_user("agency", region="330106")
    _, ningbo = make_user("agency", region="330212")
    assert [c["id"] for c in client.get("/api/cases", headers=county).json] == [case.json["id"]]
    assert client.get("/api/cases", headers=ningbo).json == []
    assert client.get(f"/api/cases/{case.json['id']}", headers=ningbo).status_code == 404
    assert client.post("/api/cases", headers=ningbo,
                       json={"kind": "traceability", "title": "x", "alert_id": 1}).status_code == 404
    batch = record_failed(client, h)
    refused = client.post("/api/cases", headers=ningbo,
                          json={"kind": "traceability", "title": "x", "product_type": "food",
                                "enterprise_id": batch["enterprise"]["id"]})
    assert refused.status_code == 422  # out of Ningbo's view: as if it did not exist
    _, supervisor = make_user("supervisor", region="330000")
    assert client.post("/api/cases", headers=supervisor, json={"kind": "traceability", "title": "x",
                                                                "alert_id": 1}).status_code == 403


def test_overdue_filter_and_csv(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    late = open_recall(client, h, batch["id"], opened_at="2025-03-03T09:00:00+08:00", title="=HYPERLINK()")
    fresh = client.post("/api/cases", headers=h, json={"kind": "traceability", "title": "新", "batch_ids": [batch["id"]]})
    assert [c["id"] for c in client.get("/api/cases?overdue=true", headers=h).json] == [late["id"]]
    assert [c["id"] for c in client.get("/api/cases?overdue=false", headers=h).json] == [fresh.json["id"]]
    assert [c["id"] for c in client.get(f"/api/cases?batch_id={batch['id']}&kind=recall", headers=h).json] == [late["id"]]
    csv = client.get("/api/cases?format=csv", headers=h)
    assert csv.status_code == 200 and csv.mimetype == "text/csv"
    lines = csv.data.decode("utf-8-sig").splitlines()
    assert len(lines) == 3 and lines[0].startswith("id,kind,title,status")
    assert "'=HYPERLINK()" in csv.data.decode("utf-8-sig")


def test_the_audit_trail_keeps_what_opening_closing_and_cancelling_set(client, admin):
    """The outcome and the cancel reason are written only on the case (a note given takes the
    event's text): the audit record of the transition must keep them, and the opening the date
    the officer gave it (the deadlines run from it)."""
    user, h = admin
    batch = record_failed(client, h)
    body = {"kind": "traceability", "title": "追溯同批次", "batch_ids": [batch["id"]],
            "opened_at": "2025-09-29T10:00:00+08:00"}
    closing = client.post("/api/cases", json=body, headers=h).json
    cancelling = client.post("/api/cases", json=body, headers=h).json
    for step in ("investigating", "action_taken"):
        move(client, h, closing["id"], step)
    assert move(client, h, closing["id"], "closed", outcome="原料来源已查明", note="结案").status_code == 200
    assert move(client, h, cancelling["id"], "cancelled", reason="重复立案", note="见另案").status_code == 200

    def trail(case_id):
        records = client.get(f"/api/audit?entity=case&entity_id={case_id}", headers=h).json[::-1]
        assert all(r["user_id"] == user.id for r in records)
        return records

    opened, *_, closed = trail(closing["id"])
    assert opened["action"] == "open"
    assert datetime.fromisoformat(opened["after"]["opened_at"]) == datetime(2025, 9, 29, 2, tzinfo=timezone.utc)
    assert closed["before"]["outcome"] is None and closed["before"]["closed_at"] is None
    assert closed["after"]["outcome"] == "原料来源已查明" and closed["after"]["closed_at"]
    cancelled = trail(cancelling["id"])[-1]
    assert cancelled["before"]["cancel_reason"] is None and cancelled["after"]["cancel_reason"] == "重复立案"
    assert cancelled["after"]["status"] == "cancelled" and cancelled["after"]["closed_at"]
