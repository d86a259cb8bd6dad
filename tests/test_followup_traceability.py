"""Traceability view of a failed batch: producer's batches in every region, same lot, history, timeline."""
from __future__ import annotations

from tests.conftest import OUTSIDE_CODE, batch_payload
from tests.followup_data import days_ago, record_failed


def test_trace_shows_the_producer_across_regions_and_a_timeline(client, admin, make_user):
    _, h = admin
    failed = record_failed(client, h, lot="L-1", product="纯牛奶", sample_no="F-XIHU")
    same_lot = client.post("/api/batches", headers=h, json=batch_payload(
        sample_no="P-NINGBO", region="330212", lot="L-1", product="纯牛奶", sampled_on=days_ago(20),
        reported_on=days_ago(18))).json
    other_lot = record_failed(client, h, sample_no="F-OLD", region="330212", lot="L-0", product="纯牛奶")
    stranger = client.post("/api/batches", headers=h, json=batch_payload(
        sample_no="OTHER", enterprise_credit_code=OUTSIDE_CODE, enterprise_name="南京某公司", lot="L-1",
        product="纯牛奶")).json
    case = client.post("/api/cases", headers=h, json={"kind": "traceability", "title": "追溯", "batch_ids": [failed["id"]]}).json
    _, county = make_user("agency", region="330106")
    trace = client.get(f"/api/traceability/{failed['id']}", headers=county)
    assert trace.status_code == 200, trace.json
    body = trace.json
    assert body["enterprise"]["id"] == failed["enterprise"]["id"] and body["enterprise"]["blacklisted"] is False and body["enterprise"]["region_code"] == "330106"
    assert {b["sample_no"] for b in body["same_producer"]} == {"P-NINGBO", "F-OLD"}  # Ningbo too, not OTHER
    assert [b["id"] for b in body["same_lot"]] == [same_lot["id"]]
    assert {b["sample_no"] for b in body["failures"]} == {"F-XIHU", "F-OLD"}
    assert [c["id"] for c in body["open_cases"]] == [case["id"]]
    kinds = [(e["kind"], e["ref"]) for e in body["timeline"]]
    assert ("traceability_opened", f"case:{case['id']}") in kinds
    assert ("failed", f"batch:{other_lot['id']}") in kinds and ("sampled", f"batch:{same_lot['id']}") in kinds
    assert f"batch:{stranger['id']}" not in {ref for _, ref in kinds}
    assert [e["on"] for e in body["timeline"]] == sorted(e["on"] for e in body["timeline"])
    # The failed batch itself must be in the caller's region; a passing batch has no trace.
    _, ningbo = make_user("agency", region="330212")
    assert client.get(f"/api/traceability/{failed['id']}", headers=ningbo).status_code == 404
    assert client.get(f"/api/traceability/{same_lot['id']}", headers=h).status_code == 409
