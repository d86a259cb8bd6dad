"""Helpers for the page tests: signing in through the form, seeding scans and alerts."""
from __future__ import annotations

import re

import pytest
from flask import g, has_app_context

from core.extensions import limiter
from warning.models import Alert, AlertEvent, Assessment, Scan

PASSWORD = "correct horse battery"


def csrf_token(client, path="/login") -> str:
    # A test that holds an app context shares `g` across its requests, and Flask-WTF keeps the
    # signed token in `g`: a second client would get the first one's token and no session.
    if has_app_context():
        g.pop("csrf_token", None)
    page = client.get(path).data.decode()
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in(client, username, password=PASSWORD):
    return client.post("/login", data={"username": username, "password": password,
                                       "csrf_token": csrf_token(client)})


@pytest.fixture(autouse=True)
def fresh_limits(app):
    """Each page test starts with fresh rate limits (sign-ins count against them)."""
    limiter.reset()
    yield
    limiter.reset()


@pytest.fixture
def signed_in(client, make_user):
    """Sign the test client in as a new user with `roles` in `region`; return the user."""

    def sign(*roles, region="330000"):
        user, _ = make_user(*roles, region=region)
        assert sign_in(client, user.username).status_code == 302
        return user

    return sign


def seed_alert(session, category: str, region: str, level: str = "orange", as_of: str = "2025-06",
               status: str = "open") -> Alert:
    """A finished scan that assessed the series and opened an alert on it (as warning.scan would)."""
    scan = Scan(as_of=as_of, status="done", model_version="test", series_assessed=1, alerts_raised=1)
    session.add(scan)
    session.flush()
    session.add(Assessment(scan_id=scan.id, category_code=category, region_code=region, floor=0.93,
                           pass_rate=0.8, pass_rate_lo=0.7, pass_rate_hi=0.88, slope=-1.5,
                           forecast=[{"month": "2025-07", "rate": 0.78, "lo": 0.65, "hi": 0.9}],
                           probability=0.91, level=level,
                           reasons={"zh": "近三个月合格率低于底线", "en": "pass rate below the floor for three months"}))
    alert = Alert(category_code=category, region_code=region, level=level, status=status,
                  opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.91,
                  events=[AlertEvent(action="raised", to_level=level)])
    session.add(alert)
    session.commit()
    return alert
