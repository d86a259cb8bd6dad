"""Inputs a phone keyboard and the browser can help with: email addresses are type=email."""
from __future__ import annotations

import re

from sqlalchemy import select

from tests.web_helpers import csrf_token, fresh_limits, signed_in  # noqa: F401 (fixtures)


def _email_input(page: str) -> str:
    match = re.search(r'<input[^>]*name="email"[^>]*>', page)
    assert match, page[:3000]
    return match.group(0)


def test_subscription_email_is_an_email_input_and_still_checked_by_the_server(client, signed_in, db_session):
    from warning.notify.models import Subscription

    signed_in("supervisor", region="330100")
    assert 'type="email"' in _email_input(client.get("/supervision/subscriptions").data.decode())
    token = csrf_token(client, "/supervision/subscriptions")
    form = {"csrf_token": token, "region": "330106", "category": "*", "min_level": "red"}
    # A browser's own check lets "a@b..cn" through; the server's (the API's) still refuses it.
    assert client.post("/supervision/subscriptions", data={**form, "email": "a@b..cn"}).status_code == 422
    assert client.post("/supervision/subscriptions", data={**form, "email": "me@hz.example.gov.cn"}).status_code == 302
    mine = db_session.scalar(select(Subscription.id).where(Subscription.email == "me@hz.example.gov.cn"))
    edit = _email_input(client.get(f"/supervision/subscriptions/{mine}").data.decode())
    assert 'type="email"' in edit and 'value="me@hz.example.gov.cn"' in edit
