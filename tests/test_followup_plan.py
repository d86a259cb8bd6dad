"""Risk-based sampling plan: warning assessments, thin series and enterprise credit, ranked with reasons."""
from __future__ import annotations

from datetime import datetime, timezone

from core.clock import local_today, month_of, shift_month
from followup.models import BlacklistEntry
from tests.conftest import batch_payload
from tests.test_api_fuzz import seed_alert
from tests.web_helpers import fresh_limits, signed_in  # noqa: F401 (fixtures)


def test_plan_ranks_warning_thin_series_and_low_credit(client, admin, make_user, db_session):
    seed_alert(db_session)  # scan as of 2025-04: liquid milk in Xihu, probability 0.99, yellow
    _, h = admin
    for i in range(3):  # a thin, calm series in Ningbo
        client.post("/api/batches", headers=h, json=batch_payload(
            sample_no=f"NB-{i}", region="330212", category="food.dairy.liquid_milk", sampled_on="2025-03-0{}".format(i + 1),
            reported_on="2025-03-20"))
    eid = client.post("/api/batches", headers=h, json=batch_payload(sample_no="X", sampled_on="2025-02-01",
                                                                     reported_on="2025-02-10")).json["enterprise"]["id"]
    client.post("/api/blacklist", json={"enterprise_id": eid, "reason": "拒不整改"}, headers=h)
    # Blacklisted today: not yet when the plan for May 2025 was drawn up (the record as it stood)
    assert all(line["kind"] != "enterprise"
               for line in client.get("/api/sampling-plan?month=2025-05", headers=h).json["lines"])
    db_session.query(BlacklistEntry).filter_by(enterprise_id=eid).update(
        {"at": datetime(2025, 3, 15, 2, tzinfo=timezone.utc)})
    db_session.commit()
    response = client.get("/api/sampling-plan?month=2025-05", headers=h)
    assert response.status_code == 200, response.json
    plan = response.json
    assert plan["month"] == "2025-05" and plan["as_of"] == "2025-04" and plan["scan_id"] == 1
    lines = plan["lines"]
    assert [line["rank"] for line in lines] == list(range(1, len(lines) + 1))
    assert [line["score"] for line in lines] == sorted((line["score"] for line in lines), reverse=True)
    top = lines[0]
    assert (top["kind"], top["category"], top["region"], top["level"]) == (
        "series", "food.dairy.liquid_milk", "330106", "yellow")
    assert top["components"]["warning"] > 0 and any("yellow" in r for r in top["reasons"])
    ningbo = next(line for line in lines if line["region"] == "330212")
    assert ningbo["components"]["warning"] == 0 and ningbo["components"]["uncertainty"] > 0
    assert any(r.startswith("thin series") and r.endswith(": 3 (fewer than 20)") for r in ningbo["reasons"])
    firm = next(line for line in lines if line["kind"] == "enterprise")
    assert firm["enterprise"]["id"] == eid and firm["enterprise"]["blacklisted"] is True
    assert any("blacklisted" in r for r in firm["reasons"])
    # Scope: a Ningbo officer sees only Ningbo's lines.
    _, nb = make_user("agency", region="330212")
    scoped = client.get("/api/sampling-plan?month=2025-05", headers=nb).json["lines"]
    assert scoped and {line["region"] for line in scoped} == {"330212"}
    assert client.get("/api/sampling-plan?month=2025-13", headers=h).status_code == 422
    later = shift_month(shift_month(month_of(local_today()), 1), 1)  # the month after next: no data behind it
    too_late = client.get(f"/api/sampling-plan?month={later}", headers=h)
    assert too_late.status_code == 422 and "at the latest" in too_late.json["errors"]["month"][0]


def _ningbo_batch(client, h, sample_no, sampled_on, reported_on):
    response = client.post("/api/batches", headers=h, json=batch_payload(
        sample_no=sample_no, region="330212", category="food.dairy.liquid_milk", sampled_on=sampled_on,
        reported_on=reported_on))
    assert response.status_code == 201, response.json


def test_plan_counts_the_scans_months_and_names_its_figures(client, admin, db_session):
    seed_alert(db_session)  # the only scan: as of 2025-04
    _, h = admin
    _ningbo_batch(client, h, "NB-OLD", "2024-05-10", "2024-05-20")  # in the scan's 12 months
    _ningbo_batch(client, h, "NB-NEW-1", "2025-05-02", "2025-05-08")  # after the scan's month
    _ningbo_batch(client, h, "NB-NEW-2", "2025-05-03", "2025-05-08")
    thin = {}
    for month in ("2025-05", "2025-06"):
        plan = client.get(f"/api/sampling-plan?month={month}", headers=h).json
        # The June plan rests on May's data, but no scan of May exists: it names the scan it uses
        # and counts the batches that scan assessed, as the May plan does.
        assert (plan["as_of"], plan["scan_id"], plan["scan_as_of"]) == (shift_month(month, -1), 1, "2025-04")
        ningbo = next(line for line in plan["lines"] if line["region"] == "330212")
        thin[month] = [r for r in ningbo["reasons"] if r.startswith("thin series")]
        warned = next(line for line in plan["lines"] if line["level"] == "yellow")
        assert any("estimated pass rate 90.0%" in r for r in warned["reasons"]), warned["reasons"]
    assert thin["2025-05"] == thin["2025-06"] == ["thin series: batches in the 12 months to 2025-04: 1 (fewer than 20)"]


def test_plan_page_names_the_scan_that_exists(client, signed_in, db_session):
    seed_alert(db_session)
    signed_in("supervisor")
    page = client.get("/followup/plan?month=2025-06").data.decode()
    assert "按 2025年4月 扫描的风险排序" in page and "2025年5月 扫描" not in page
    assert "估计合格率 90.0%" in page


def test_a_month_not_in_ascii_yyyy_mm_is_refused_naming_it(client, admin):
    _, h = admin
    for month in ("2025-05%0A", "%D9%A2%D9%A0%D9%A2%D9%A5-05"):  # a final newline (was a 500); ٢٠٢٥-05
        response = client.get(f"/api/sampling-plan?month={month}", headers=h)
        assert response.status_code == 422, (month, response.json)
        assert response.json["errors"] == {"month": ["must be a month in YYYY-MM form"]}
