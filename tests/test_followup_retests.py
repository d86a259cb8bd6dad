"""Retests (7 working days, another laboratory, final conclusion) and objections."""
from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from core.clock import local_today
from followup.calendar import load_calendar
from followup.services.appeals import apply_for_retest
from followup.services.calendar_days import seed_official
from inspection.models import SeriesMonth
from tests.followup_data import FAILING_ITEM, days_ago, record_failed

OTHER_LAB = "宁波市食品检验检测研究院"


def notified(client, h, batch, on: str):
    response = client.post(f"/api/disposals/{batch['id']}", json={"notified_on": on}, headers=h)
    assert response.status_code == 200, response.json


def test_retest_needs_the_notification_date_first(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    response = client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                           json={"applied_on": days_ago(1), "laboratory": OTHER_LAB})
    assert response.status_code == 409 and "notified_on" in response.json["errors"]


def test_late_retest_is_refused_with_the_date_that_was_due(client, admin, db_session):
    _, h = admin
    batch = record_failed(client, h, local_today() - timedelta(days=40))
    told = local_today() - timedelta(days=30)
    notified(client, h, batch, told.isoformat())
    due = load_calendar(db_session).add_working_days(told, 7)
    late = client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                       json={"applied_on": (due + timedelta(days=1)).isoformat(), "laboratory": OTHER_LAB})
    assert late.status_code == 422
    assert due.isoformat() in late.json["errors"]["applied_on"][0]
    on_time = client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                          json={"applied_on": due.isoformat(), "laboratory": OTHER_LAB})
    assert on_time.status_code == 201 and on_time.json["due_on"] == due.isoformat()


def test_retest_window_skips_holidays(client, admin, db_session):
    """Told on 30 Sep 2025: the National Day holiday does not count, the make-up Saturday does."""
    seed_official(db_session, [2025])
    _, h = admin
    batch = record_failed(client, h, date(2025, 9, 29))
    notified(client, h, batch, "2025-09-30")
    retest = apply_for_retest(db_session, batch["id"], {"applied_on": date(2025, 10, 16), "laboratory": OTHER_LAB},
                              1, None)
    assert retest.due_on == date(2025, 10, 16)
    other = record_failed(client, h, date(2025, 9, 29))
    notified(client, h, other, "2025-09-30")
    late = client.post(f"/api/disposals/{other['id']}/retest", headers=h,
                       json={"applied_on": "2025-10-17", "laboratory": OTHER_LAB})
    assert late.status_code == 422 and "2025-10-16" in late.json["message"]


def test_retest_goes_to_another_laboratory_and_only_once(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    notified(client, h, batch, days_ago(3))
    same = client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                       json={"applied_on": days_ago(1), "laboratory": " 杭州市食品药品检验研究院 "})
    assert same.status_code == 422 and "laboratory" in same.json["errors"]
    assert client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                       json={"applied_on": days_ago(1), "laboratory": OTHER_LAB}).status_code == 201
    second = client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                         json={"applied_on": days_ago(0), "laboratory": OTHER_LAB})
    assert second.status_code == 409


def _retest(client, h, batch):
    notified(client, h, batch, days_ago(3))
    response = client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                           json={"applied_on": days_ago(1), "laboratory": OTHER_LAB})
    assert response.status_code == 201, response.json
    return response.json["id"]


def _milk_counts(db_session, month):
    row = db_session.scalar(select(SeriesMonth).where(SeriesMonth.category_code == "food.dairy.liquid_milk",
                                                      SeriesMonth.region_code == "330106",
                                                      SeriesMonth.month == month, SeriesMonth.local.is_(True)))
    db_session.expire_all()
    return (row.batches, row.failed) if row else None


def test_passing_retest_amends_the_batch_and_the_aggregate(client, admin, db_session):
    _, h = admin
    batch = record_failed(client, h)
    month = batch["sampled_on"][:7]
    assert _milk_counts(db_session, month) == (1, 1)
    retest_id = _retest(client, h, batch)
    done = client.post(f"/api/retests/{retest_id}/conclude", headers=h,
                       json={"conclusion": "pass", "report_no": "FJ-1", "concluded_on": days_ago(0)})
    assert done.status_code == 200 and done.json["conclusion"] == "pass"
    amended = client.get(f"/api/batches/{batch['id']}", headers=h).json
    assert amended["conclusion"] == "pass" and amended["laboratory"] == OTHER_LAB
    assert all(i["verdict"] == "pass" for i in amended["items"]) and amended["version"] == 2
    revisions = client.get(f"/api/batches/{batch['id']}/revisions", headers=h).json
    assert len(revisions) == 1 and "retest" in revisions[0]["reason"]
    assert _milk_counts(db_session, month) == (1, 0)
    assert client.get("/api/disposals?status=open", headers=h).json == []  # no longer a failed batch
    final = client.post(f"/api/retests/{retest_id}/conclude", headers=h, json={"conclusion": "fail"})
    assert final.status_code == 409


def test_failing_retest_keeps_the_failure(client, admin, db_session):
    _, h = admin
    batch = record_failed(client, h)
    retest_id = _retest(client, h, batch)
    done = client.post(f"/api/retests/{retest_id}/conclude", headers=h, json={"conclusion": "fail", "report_no": "  "})
    assert done.status_code == 200 and done.json["status"] == "concluded"
    assert done.json["report_no"] is None  # spaces are no report number, as on the page
    assert client.get(f"/api/batches/{batch['id']}", headers=h).json["conclusion"] == "fail"
    listed = client.get(f"/api/retests?batch_id={batch['id']}", headers=h).json
    assert [r["conclusion"] for r in listed] == ["fail"]
    credit = client.get(f"/api/enterprises/{batch['enterprise']['id']}/credit", headers=h).json
    assert (credit["retests"], credit["retests_confirmed"], credit["retests_passed"]) == (1, 1, 0)


def test_passing_retest_with_a_failing_item_is_refused_and_nothing_changes(client, admin):
    _, h = admin
    batch = record_failed(client, h)
    retest_id = _retest(client, h, batch)
    refused = client.post(f"/api/retests/{retest_id}/conclude", headers=h,
                          json={"conclusion": "pass", "items": [FAILING_ITEM]})
    assert refused.status_code == 422
    assert client.get(f"/api/retests/{retest_id}", headers=h).json["status"] == "requested"


def test_objection_is_recorded_and_decided_once(client, admin, make_user):
    _, h = admin
    batch = record_failed(client, h)
    empty = client.post(f"/api/disposals/{batch['id']}/objections", headers=h,
                        json={"subject": "sampling", "grounds": "  "})
    assert empty.status_code == 422 and "grounds" in empty.json["errors"]
    raised = client.post(f"/api/disposals/{batch['id']}/objections", headers=h,
                         json={"subject": "sampling", "grounds": "抽样人员未按规定封样"})
    assert raised.status_code == 201 and raised.json["status"] == "open"
    oid = raised.json["id"]
    no_reason = client.post(f"/api/objections/{oid}/decide", headers=h, json={"status": "rejected", "decision": " "})
    assert no_reason.status_code == 422
    decided = client.post(f"/api/objections/{oid}/decide", headers=h,
                          json={"status": "rejected", "decision": "封样记录完整，异议不成立"})
    assert decided.status_code == 200 and decided.json["status"] == "rejected"
    again = client.post(f"/api/objections/{oid}/decide", headers=h, json={"status": "upheld", "decision": "x"})
    assert again.status_code == 409
    _, outsider = make_user("agency", region="330212")
    assert client.get("/api/objections", headers=outsider).json == []
    assert client.post(f"/api/objections/{oid}/decide", headers=outsider,
                       json={"status": "upheld", "decision": "x"}).status_code == 404


def test_the_audit_trail_keeps_every_field_an_application_or_objection_records(client, admin):
    """Who applied for the retest and the day an objection was raised (it may be given, earlier
    than today) are on the record: the audit records of their creation keep them too."""
    user, h = admin
    batch = record_failed(client, h)
    notified(client, h, batch, days_ago(3))
    retest = client.post(f"/api/disposals/{batch['id']}/retest", headers=h,
                         json={"applied_on": days_ago(1), "laboratory": OTHER_LAB, "applicant": "杭州示例乳业有限公司"})
    assert retest.status_code == 201, retest.json
    objection = client.post(f"/api/disposals/{batch['id']}/objections", headers=h,
                            json={"subject": "method", "grounds": "检验方法不适用", "raised_on": days_ago(2)})
    assert objection.status_code == 201, objection.json
    applied = client.get(f"/api/audit?entity=retest&entity_id={retest.json['id']}", headers=h).json
    raised = client.get(f"/api/audit?entity=objection&entity_id={objection.json['id']}", headers=h).json
    assert [(r["action"], r["user_id"]) for r in applied + raised] == [("apply", user.id), ("raise", user.id)]
    assert applied[0]["after"]["applicant"] == "杭州示例乳业有限公司"
    assert raised[0]["after"]["raised_on"] == days_ago(2)
