"""Quality credit (score formula, grades from settings) and the blacklist (rules, officers, history)."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from core.clock import local_today
from followup.services.blacklist import apply_rules
from followup.services.credit import Facts, Failure, score
from followup.settings import load_settings
from tests.conftest import OUTSIDE_CODE, batch_payload
from tests.followup_data import days_ago, record_failed

TODAY = date(2026, 6, 1)


@pytest.fixture
def settings(app):
    with app.app_context():
        return load_settings()


def failure(days_old: int, severity: str = "general", overdue: bool = False) -> Failure:
    return Failure(1, "S", TODAY - timedelta(days=days_old), severity, False, False, overdue)


def test_clean_record_is_an_a(settings):
    assert score(Facts(batches=40), False, TODAY, settings) == {
        "score": 100.0, "grade": "A", "penalties": {"failures": 0, "cases": 0, "overdue": 0, "retests": 0}}


def test_failures_weigh_by_severity_and_fade_with_a_half_life(settings):
    w = settings.credit_severity_weights
    fresh = score(Facts(failures=[failure(0, "serious")]), False, TODAY, settings)
    assert fresh["score"] == round(100 - w["serious"], 1)
    year_old = score(Facts(failures=[failure(settings.credit_half_life_days, "serious")]), False, TODAY, settings)
    assert year_old["penalties"]["failures"] == pytest.approx(w["serious"] / 2)
    minor = score(Facts(failures=[failure(0, "minor")]), False, TODAY, settings)
    assert minor["score"] > fresh["score"]


def test_cases_overdue_and_grades(settings):
    facts = Facts(failures=[failure(10, "general", overdue=True)], recalls={"I": 1}, traceability_cases=1)
    result = score(facts, False, TODAY, settings)
    expected_failure = settings.credit_severity_weights["general"] * 0.5 ** (10 / settings.credit_half_life_days)
    assert result["penalties"]["cases"] == settings.credit_recall_weights["I"] + settings.credit_traceability_weight
    assert result["penalties"]["overdue"] == settings.credit_overdue_weight
    assert result["score"] == round(100 - expected_failure - result["penalties"]["cases"]
                                    - settings.credit_overdue_weight, 1)
    grades = settings.credit_grades
    assert result["grade"] == ("A" if result["score"] >= grades["A"] else "B" if result["score"] >= grades["B"]
                               else "C" if result["score"] >= grades["C"] else "D")
    many = Facts(failures=[failure(0, "serious") for _ in range(10)])
    assert score(many, False, TODAY, settings) == {**score(many, False, TODAY, settings), "score": 0.0, "grade": "D"}
    assert score(Facts(), True, TODAY, settings)["grade"] == "D"  # blacklisted


def test_grade_cut_offs_are_settings(app):
    with app.app_context():
        app.config["FOLLOWUP_CREDIT_GRADES"] = {"A": 99.5, "B": 50.0, "C": 10.0}
        try:
            strict = load_settings()
        finally:
            app.config["FOLLOWUP_CREDIT_GRADES"] = {"A": 90.0, "B": 75.0, "C": 60.0}
    assert score(Facts(failures=[failure(300, "minor")]), False, TODAY, strict)["grade"] == "B"


def test_credit_api_counts_the_record(client, admin, make_user):
    _, h = admin
    batch = record_failed(client, h, local_today() - timedelta(days=120))  # overdue disposal
    client.post("/api/batches", json=batch_payload(), headers=h)
    client.post("/api/cases", headers=h, json={"kind": "recall", "title": "召回", "level": "III",
                                               "batch_ids": [batch["id"]]})
    eid = batch["enterprise"]["id"]
    credit = client.get(f"/api/enterprises/{eid}/credit", headers=h)
    assert credit.status_code == 200, credit.json
    body = credit.json
    assert body["batches"] == 2 and body["failed"] == 1 and body["overdue_disposals"] == 1
    assert body["recalls"] == {"III": 1} and body["open_cases"] == 1
    assert body["failures"][0]["batch_id"] == batch["id"] and body["failures"][0]["overdue"] is True
    assert body["score"] < 100 and body["grade"] in "ABCD" and body["blacklist_history"] == []
    _, ningbo = make_user("agency", region="330212")
    assert client.get(f"/api/enterprises/{eid}/credit", headers=ningbo).status_code == 404
    _, xihu = make_user("supervisor", region="330106")
    assert client.get(f"/api/enterprises/{eid}/credit", headers=xihu).status_code == 200


def test_officer_blacklists_with_a_reason_and_removes_with_a_reason(client, admin, db_session):
    _, h = admin
    eid = record_failed(client, h)["enterprise"]["id"]
    no_reason = client.post("/api/blacklist", json={"enterprise_id": eid, "reason": "  "}, headers=h)
    assert no_reason.status_code == 422 and "reason" in no_reason.json["errors"]
    missing = client.post("/api/blacklist", json={"enterprise_id": eid}, headers=h)
    assert missing.status_code == 422 and "reason" in missing.json["errors"]
    added = client.post("/api/blacklist", json={"enterprise_id": eid, "reason": "拒不整改"}, headers=h)
    assert added.status_code == 201 and added.json["rule"] is None and added.json["user_id"]
    assert client.get(f"/api/enterprises/{eid}", headers=h).json["blacklisted"] is True
    assert client.post("/api/blacklist", json={"enterprise_id": eid, "reason": "x"}, headers=h).status_code == 409
    listed = client.get("/api/blacklist", headers=h).json
    assert [(r["enterprise"]["id"], r["entry"]["reason"]) for r in listed] == [(eid, "拒不整改")]
    assert client.get(f"/api/enterprises/{eid}/credit", headers=h).json["grade"] == "D"
    assert client.post(f"/api/blacklist/{eid}/remove", json={"reason": ""}, headers=h).status_code == 422
    removed = client.post(f"/api/blacklist/{eid}/remove", json={"reason": "整改到位"}, headers=h)
    assert removed.status_code == 200 and removed.json["action"] == "remove"
    assert client.get("/api/blacklist", headers=h).json == []
    history = client.get("/api/blacklist?history=true", headers=h).json
    assert [r["entry"]["action"] for r in history] == ["remove", "add"]
    assert client.post(f"/api/blacklist/{eid}/remove", json={"reason": "x"}, headers=h).status_code == 409


def test_two_serious_failures_within_a_year_blacklist_by_rule(client, admin, db_session):
    _, h = admin
    first = record_failed(client, h, local_today() - timedelta(days=200))
    second = record_failed(client, h, local_today() - timedelta(days=20))
    eid = first["enterprise"]["id"]
    serious = {"severity": "serious", "notified_on": days_ago(15)}
    assert client.post(f"/api/disposals/{first['id']}", json={**serious, "notified_on": days_ago(190)},
                       headers=h).status_code == 200
    assert client.get(f"/api/enterprises/{eid}", headers=h).json["blacklisted"] is False
    assert client.post(f"/api/disposals/{second['id']}", json=serious, headers=h).status_code == 200
    assert client.get(f"/api/enterprises/{eid}", headers=h).json["blacklisted"] is True
    entry = client.get("/api/blacklist", headers=h).json[0]["entry"]
    assert entry["rule"] == "serious_failures" and first["sample_no"] in entry["reason"]
    assert entry["user_id"] == admin[0].id  # the officer whose record set the rule off
    # Removed by an officer: the same two failures do not put it back.
    client.post(f"/api/blacklist/{eid}/remove", json={"reason": "复核：严重程度认定有误"}, headers=h)
    assert apply_rules(db_session) == []


def test_serious_failures_outside_the_window_do_not_count(client, admin, db_session):
    _, h = admin
    old = record_failed(client, h, local_today() - timedelta(days=400))
    new = record_failed(client, h, local_today() - timedelta(days=20))
    for batch in (old, new):
        client.post(f"/api/disposals/{batch['id']}", json={"severity": "serious"}, headers=h)
    assert client.get(f"/api/enterprises/{old['enterprise']['id']}", headers=h).json["blacklisted"] is False


def test_refusing_sampling_blacklists_by_rule(client, admin, db_session):
    _, h = admin
    refused = client.post("/api/batches", headers=h, json=batch_payload(
        conclusion="fail", items=[], fail_reason="企业拒绝抽样", enterprise_credit_code=OUTSIDE_CODE,
        enterprise_name="南京某食品公司", sampled_on=days_ago(3), reported_on=days_ago(3))).json
    record_failed(client, h)  # another enterprise, an ordinary failure
    entries = apply_rules(db_session)
    assert [(e.enterprise_id, e.rule) for e in entries] == [(refused["enterprise"]["id"], "refused_sampling")]
    assert apply_rules(db_session) == []  # already blacklisted


def test_blacklist_is_region_scoped(client, admin, make_user):
    _, h = admin
    eid = record_failed(client, h)["enterprise"]["id"]
    client.post("/api/blacklist", json={"enterprise_id": eid, "reason": "拒不整改"}, headers=h)
    _, ningbo = make_user("agency", region="330212")
    assert client.get("/api/blacklist", headers=ningbo).json == []
    assert client.post(f"/api/blacklist/{eid}/remove", json={"reason": "x"}, headers=ningbo).status_code == 404
    _, supervisor = make_user("supervisor", region="330106")
    assert len(client.get("/api/blacklist", headers=supervisor).json) == 1
    assert client.post(f"/api/blacklist/{eid}/remove", json={"reason": "x"}, headers=supervisor).status_code == 403


def test_cli_runs_the_rules(runner, client, admin):
    _, h = admin
    client.post("/api/batches", headers=h, json=batch_payload(
        conclusion="fail", items=[], fail_reason="refused sampling", sampled_on=days_ago(2), reported_on=days_ago(2)))
    result = runner.invoke(args=["followup", "blacklist-rules"])
    assert result.exit_code == 0 and "refused_sampling" in result.output


def test_blacklist_entries_change_only_where_the_enterprise_is_registered(client, admin, make_user):
    _, h = admin
    eid = record_failed(client, h)["enterprise"]["id"]  # a Xihu producer
    assert client.post("/api/blacklist", json={"enterprise_id": eid, "reason": "拒不整改"}, headers=h).status_code == 201
    sampled = client.post("/api/batches", json=batch_payload(region="330212"), headers=h).json  # also sampled in Ningbo
    _, ningbo = make_user("agency", region="330212")

    assert client.get(f"/api/enterprises/{eid}/credit", headers=ningbo).status_code == 200  # seen where sampled
    refused = client.post(f"/api/blacklist/{eid}/remove", json={"reason": "整改到位"}, headers=ningbo)
    assert refused.status_code == 403, refused.json
    assert client.get(f"/api/enterprises/{eid}", headers=h).json["blacklisted"] is True

    # a batch recorded by mistake and voided does not put the enterprise in Ningbo's view
    assert client.post(f"/api/batches/{sampled['id']}/void", json={"reason": "录错"}, headers=h).status_code == 200
    assert client.get(f"/api/enterprises/{eid}/credit", headers=ningbo).status_code == 404
    assert client.post(f"/api/blacklist/{eid}/remove", json={"reason": "x"}, headers=ningbo).status_code == 404

    _, hangzhou = make_user("agency", region="330100")  # the registering city may lift it
    assert client.post(f"/api/blacklist/{eid}/remove", json={"reason": "整改到位"}, headers=hangzhou).status_code == 200


def test_the_credit_record_names_only_failures_sampled_in_the_callers_region(client, admin, make_user):
    _, h = admin
    xihu = record_failed(client, h, sample_no="XIHU-FAIL", region="330106")
    ningbo = record_failed(client, h, sample_no="NB-FAIL", region="330212")
    eid = xihu["enterprise"]["id"]
    _, nb = make_user("agency", region="330212")

    mine = client.get(f"/api/enterprises/{eid}/credit", headers=nb).json
    every = client.get(f"/api/enterprises/{eid}/credit", headers=h).json

    assert [f["batch_id"] for f in mine["failures"]] == [ningbo["id"]]
    assert {f["batch_id"] for f in every["failures"]} == {xihu["id"], ningbo["id"]}
    assert mine["failed"] == every["failed"] == 2 and mine["score"] == every["score"]  # one record province-wide


def test_credit_as_of_a_past_day_reads_the_record_as_it_stood_then(client, admin, db_session):
    """A sampling plan for a past month scores credit as of then: later batches, failures,
    closings, cases and retest conclusions are not yet known."""
    from followup.services.credit import load_facts

    _, h = admin
    early = record_failed(client, h, local_today() - timedelta(days=100))
    eid = early["enterprise"]["id"]
    then = local_today() - timedelta(days=60)
    later = record_failed(client, h, local_today() - timedelta(days=20),
                          enterprise_credit_code=early["enterprise"]["credit_code"])
    assert client.post(f"/api/disposals/{early['id']}", headers=h,
                       json={"notified_on": days_ago(95), "cause": "原料"}).status_code == 200
    closed = client.post(f"/api/disposals/{early['id']}/close", headers=h,
                         json={"outcome": "整改完成", "closed_on": days_ago(10)})
    assert closed.status_code == 200, closed.json
    assert client.post("/api/cases", headers=h, json={"kind": "recall", "title": "召回", "level": "III",
                                                      "batch_ids": [later["id"]]}).status_code == 201

    now = load_facts(db_session, [eid])[eid]
    past = load_facts(db_session, [eid], then)[eid]
    assert (now.batches, len(now.failures), now.open_cases, now.recalls) == (2, 2, 1, {"III": 1})
    assert [f.batch_id for f in now.failures if f.disposal_closed] == [early["id"]]
    # 60 days ago: one batch, failed, its disposal neither closed nor overdue yet; no case
    assert (past.batches, past.open_cases, past.recalls) == (1, 0, {})
    assert [(f.batch_id, f.disposal_closed, f.overdue) for f in past.failures] == [(early["id"], False, False)]


def test_credit_as_of_a_past_day_knows_neither_later_cancellations_nor_later_blacklist_changes(
        client, admin, db_session):
    """A case cancelled after the day was open on it; an enterprise blacklisted after the day was
    not blacklisted on it, and one taken off after the day still was."""
    from core.models import utcnow
    from followup.models import BlacklistEntry, Case
    from followup.services.credit import load_facts

    _, h = admin
    failed = record_failed(client, h, local_today() - timedelta(days=100))
    eid, then = failed["enterprise"]["id"], local_today() - timedelta(days=60)
    opened = client.post("/api/cases", headers=h, json={"kind": "recall", "title": "召回", "level": "III",
                                                        "batch_ids": [failed["id"]]})
    assert opened.status_code == 201, opened.json
    db_session.get(Case, opened.json["id"]).opened_at = utcnow() - timedelta(days=90)
    db_session.commit()
    assert client.post(f"/api/cases/{opened.json['id']}/transition", headers=h,
                       json={"to": "cancelled", "reason": "重复立案"}).status_code == 200
    assert client.post("/api/blacklist", json={"enterprise_id": eid, "reason": "拒不整改"}, headers=h).status_code == 201

    now, past = load_facts(db_session, [eid])[eid], load_facts(db_session, [eid], then)[eid]
    assert (now.open_cases, now.recalls, now.blacklisted) == (0, {}, True)
    assert (past.open_cases, past.recalls, past.blacklisted) == (1, {"III": 1}, False)

    db_session.query(BlacklistEntry).filter_by(enterprise_id=eid).update({"at": utcnow() - timedelta(days=80)})
    db_session.commit()
    assert client.post(f"/api/blacklist/{eid}/remove", json={"reason": "整改到位"}, headers=h).status_code == 200
    now, past = load_facts(db_session, [eid])[eid], load_facts(db_session, [eid], then)[eid]
    assert (now.blacklisted, past.blacklisted) == (False, True)
    assert load_facts(db_session, [eid], local_today() - timedelta(days=85))[eid].blacklisted is False
