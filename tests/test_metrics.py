"""/metrics for Prometheus: off without a token, refused with a wrong one, and the figures an
operator alerts on read from the database."""
from __future__ import annotations

from datetime import timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from core.jobs import Job
from core.models import utcnow
from tests.web_helpers import seed_alert
from warning.models import AlertGroup, Scan
from warning.notify.models import OutboxMessage

TOKEN = "scraper-secret"


@pytest.fixture
def metrics_token(app, monkeypatch):
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)


def _scrape(client) -> dict[tuple[str, tuple], float]:
    answer = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert answer.status_code == 200 and answer.mimetype == "text/plain"
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(answer.get_data(as_text=True)) for s in family.samples}


def test_metrics_are_off_without_a_token_and_refuse_a_wrong_one(app, client, monkeypatch):
    assert client.get("/metrics").status_code == 404
    monkeypatch.setitem(app.config, "METRICS_TOKEN", TOKEN)
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer guess"}).status_code == 401


def test_metrics_tell_a_stalled_worker_and_what_waits(client, db_session, metrics_token):
    empty = _scrape(client)
    assert empty[("warning_last_scan_age_seconds", ())] == float("inf")  # never scanned: alert
    assert empty[("inspection_jobs_oldest_queued_seconds", ())] == 0.0

    alert = seed_alert(db_session, "food.dairy.liquid_milk", "330106", level="red")  # a finished scan
    seed_alert(db_session, "food.dairy.liquid_milk", "330212", level="yellow", status="dismissed")
    db_session.add(Job(kind="import", status="queued", created_at=utcnow() - timedelta(minutes=10)))
    db_session.get(Scan, alert.last_scan_id).finished_at = utcnow() - timedelta(hours=2)
    group = AlertGroup(region_code="330100", category_code="food", level="red", scan_id=alert.last_scan_id)
    db_session.add(group)
    db_session.flush()
    db_session.add_all([
        OutboxMessage(group_id=group.id, channel="email", target_id=1, address="a@hz.gov.cn", payload={},
                      status="pending", created_at=utcnow() - timedelta(hours=1)),
        OutboxMessage(group_id=group.id, channel="webhook", target_id=2, address="https://x", payload={},
                      status="failed"),
        OutboxMessage(group_id=group.id, channel="email", target_id=3, address="b@hz.gov.cn", payload={},
                      status="sent")])
    db_session.commit()

    m = _scrape(client)
    assert m[("warning_alerts_open", (("level", "red"),))] == 1
    assert m[("warning_alerts_open", (("level", "yellow"),))] == 0  # dismissed
    assert 7190 < m[("warning_last_scan_age_seconds", ())] < 10800
    assert m[("inspection_jobs", (("status", "queued"),))] == 1
    assert 590 < m[("inspection_jobs_oldest_queued_seconds", ())] < 3600
    assert m[("warning_notices_undelivered", (("status", "pending"),))] == 1
    assert m[("warning_notices_undelivered", (("status", "failed"),))] == 1
    assert 3590 < m[("warning_notices_oldest_pending_seconds", ())] < 7200
