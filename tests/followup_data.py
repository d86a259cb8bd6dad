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
