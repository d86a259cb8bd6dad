"""Errors outside /api are pages a browser can read; the language switch never lands on one."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.auth.models import User
from core.clock import local_today
from inspection.services.batches import create_batch
from tests.conftest import batch_payload
from tests.followup_data import FAILING_ITEM
from tests.web_helpers import csrf_token, fresh_limits, signed_in  # noqa: F401 (fixtures)


def _failed_batch(db_session) -> int:
    reported = local_today() - timedelta(days=10)
    body = batch_payload(conclusion="fail", laboratory="杭州市食品药品检验研究院", items=[FAILING_ITEM],
                         sampled_on=reported - timedelta(days=5), reported_on=reported)
    return create_batch(db_session, body, db_session.scalar(select(User.id).limit(1))).id


def _switch(client, next_path, referrer=None, lang="en"):
    headers = {"Referer": referrer} if referrer else {}
    return client.post("/language", headers=headers,
                       data={"csrf_token": csrf_token(client, "/login"), "lang": lang, "next": next_path})


def test_unknown_page_is_the_translated_html_page(client):
    chinese = client.get("/nonexistent")
    _switch(client, "/login")
    english = client.get("/nonexistent")

    assert chinese.status_code == english.status_code == 404
    assert chinese.mimetype == "text/html" and '<section class="card">' in chinese.data.decode()
    assert "页面或记录不存在" in chinese.data.decode()
    assert "This page or record does not exist." in english.data.decode()


@pytest.mark.parametrize("url", ["/batches/7/void", "/followup/disposals/7/close"])
def test_a_post_only_url_reached_by_get_is_an_html_page(client, signed_in, url):
    signed_in("admin")

    response = client.get(url)

    assert response.status_code == 405 and response.mimetype == "text/html"
    assert "POST" in response.headers["Allow"]  # still the header RFC 9110 requires
    assert '<section class="card">' in response.data.decode() and '"code"' not in response.data.decode()


def test_api_errors_keep_the_json_shape(client):
    response = client.get("/api/no-such-thing")
    assert response.is_json and response.get_json()["code"] == 401  # the API asks for a token first


def test_an_unexpected_error_on_a_page_is_a_page(app, client, signed_in, monkeypatch):
    signed_in("admin")

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("web.auth.render_template", boom)
    response = client.get("/")

    assert response.status_code == 500 and response.mimetype == "text/html"
    body = response.data.decode()
    assert "secret internals" not in body and "Traceback" not in body and "已记录" in body


def test_language_switch_after_a_refused_form_returns_to_the_records_page(client, signed_in, db_session):
    signed_in("admin")
    batch_id = _failed_batch(db_session)
    close = f"/followup/disposals/{batch_id}/close"
    refused = client.post(close, data={"csrf_token": csrf_token(client, f"/followup/disposals/{batch_id}"),
                                       "severity": "general", "measures": "下架"})
    assert refused.status_code == 422  # the browser now sits on the POST-only URL

    response = _switch(client, f"{close}?")

    assert response.status_code == 302 and response.headers["Location"] == f"/followup/disposals/{batch_id}"
    assert "Disposal" in client.get(response.headers["Location"]).data.decode()
    void = _switch(client, f"/batches/{batch_id}/void?", lang="zh_CN")
    assert void.headers["Location"] == f"/batches/{batch_id}"
    assert client.get(void.headers["Location"]).status_code == 200


def test_language_switch_keeps_a_page_that_answers_get(client, signed_in):
    signed_in("admin")
    assert _switch(client, "/batches?page=2").headers["Location"] == "/batches?page=2"


def test_language_switch_falls_back_to_the_referrer_then_home(client, signed_in):
    signed_in("admin")

    no_parent = "/followup/retests/7/conclude"  # no page at /followup/retests/7 nor above it
    assert _switch(client, no_parent, referrer="http://localhost/batches").headers["Location"] == "/batches"
    assert _switch(client, no_parent, referrer="http://evil.example/batches").headers["Location"] == "/"
    assert _switch(client, no_parent, referrer=f"http://localhost{no_parent}").headers["Location"] == "/"
