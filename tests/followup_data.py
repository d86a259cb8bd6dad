"""Builders shared by the follow-up tests: failed batches over the API, dates relative to today."""
from __future__ import annotations

from datetime import date, timedelta

from core.clock import local_today
from tests.conftest import batch_payload

FAILING_ITEM = {"item": "菌落总数", "value": "2.0×10^6", "unit": "CFU/mL", "limit": "≤1×10^5",
                "standard": "GB 25190-2010", "verdict": "fail"}


def failed_payload(**overrides) -> dict:
    body = batch_payload(conclusion="fail", laboratory="杭州市食品药品检验研究院",
                         items=[FAILING_ITEM, {**FAILING_ITEM, "item": "蛋白质", "verdict": "pass"}])
    body.update(overrides)
    return body


def record_failed(client, headers, reported: date | None = None, **overrides) -> dict:
    """POST a failed batch reported on `reported` (default: 10 days ago); return its JSON."""
    reported = reported or local_today() - timedelta(days=10)
    sampled = min(reported, local_today()) - timedelta(days=5)
    body = failed_payload(**{"sampled_on": sampled.isoformat(), "reported_on": reported.isoformat(), **overrides})
    response = client.post("/api/batches", json=body, headers=headers)
    assert response.status_code == 201, response.json
    return response.json


def days_ago(n: int) -> str:
    return (local_today() - timedelta(days=n)).isoformat()


def seed_followup_world(client, headers) -> None:
    """For the API fuzz run: the follow-up records its OpenAPI examples name (see test_api_fuzz.py).

    Batches 1-7 are the fuzz world's own (test_api_fuzz.Harness.seed). Batch 8 fails in Xihu
    (enterprise 1): its disposal was notified on 2025-03-21, objection 1 and case 1 (a level II
    recall) are open on it. Batch 9 fails in Xihu for enterprise 2, which is blacklisted, and has
    retest 1 waiting for its conclusion.
    """
    from tests.conftest import make_code

    def post(url, body, status=(200, 201)):
        response = client.post(url, json=body, headers=headers)
        assert response.status_code in status, (url, response.json)
        return response.json

    lab = "杭州市食品药品检验研究院"
    eight = post("/api/batches", failed_payload(sampled_on="2025-03-10", reported_on="2025-03-20", laboratory=lab))
    nine = post("/api/batches", failed_payload(sampled_on="2025-03-10", reported_on="2025-03-20", laboratory=lab,
                                              enterprise_credit_code=make_code("91330106MA2B7C8D9"),
                                              enterprise_name="杭州示例饮品有限公司"))
    assert (eight["id"], nine["id"]) == (8, 9)
    for batch in (8, 9):
        post(f"/api/disposals/{batch}", {"notified_on": "2025-03-21"})
    post("/api/disposals/9/retest", {"applied_on": "2025-03-25", "laboratory": "宁波市食品检验检测研究院"})
    post("/api/disposals/8/objections", {"subject": "method", "grounds": "检验方法不适用", "raised_on": "2025-03-25"})
    post("/api/cases", {"kind": "recall", "title": "纯牛奶召回", "batch_ids": [8], "level": "II",
                        "opened_at": "2025-03-21T09:00:00+08:00"})
    post("/api/blacklist", {"enterprise_id": nine["enterprise"]["id"], "reason": "拒不整改"})
