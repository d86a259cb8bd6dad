"""Web sign-in: sessions, CSRF, rate limit, expiry, failed-login trail, security headers."""
from __future__ import annotations

import re
import time

import pytest
from sqlalchemy import select

from core.audit import AuditRecord
from core.extensions import limiter

PASSWORD = "correct horse battery"


@pytest.fixture(autouse=True)
def fresh_limits(app):
    limiter.reset()
    yield
    limiter.reset()


def csrf_token(client, path="/login") -> str:
    page = client.get(path).data.decode()
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def sign_in(client, username, password=PASSWORD, next_url=""):
    token = csrf_token(client)
    return client.post(f"/login{next_url}", data={"username": username, "password": password,
                                                  "csrf_token": token})


def test_anonymous_pages_redirect_to_login_and_login_page_is_public(client, db_session):
    r = client.get("/")
    assert r.status_code == 302 and "/login" in r.headers["Location"]
    page = client.get("/login")
    assert page.status_code == 200 and "登录" in page.data.decode()
    assert client.get("/web-static/app.css").status_code == 200


def test_sign_in_and_out(client, make_user, db_session):
    user, _ = make_user("inspector", region="330106", username="wang")
    r = sign_in(client, "wang")
    assert r.status_code == 302 and r.headers["Location"] == "/"
    home = client.get("/").data.decode()
    assert "wang" in home and "抽检人员" in home  # the role, in Chinese by default
    token = csrf_token(client, "/")
    assert client.post("/logout", data={"csrf_token": token}).status_code == 302
    assert client.get("/").status_code == 302
    actions = db_session.scalars(select(AuditRecord.action).where(AuditRecord.user_id == user.id)).all()
    assert "login" in actions and "logout" in actions


def test_the_name_signs_in_whatever_its_case_unless_two_accounts_differ_only_by_it(client, make_user, db_session):
    from core.auth.models import User

    user, _ = make_user("inspector", username="zhou")
    assert sign_in(client, "Zhou").status_code == 302 and "zhou" in client.get("/").data.decode()
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    # Accounts made before names were unique whatever their case: only the exact spelling
    db_session.add(User(username="ZHOU", password_hash=user.password_hash, region_code="330000"))
    db_session.commit()
    assert sign_in(client, "Zhou").status_code == 401
    assert sign_in(client, "ZHOU").status_code == 302


def test_wrong_password_is_refused_logged_and_audited(client, make_user, db_session, caplog):
    make_user("inspector", username="li")
    r = sign_in(client, "li", "not the password")
    assert r.status_code == 401 and "错误" in r.data.decode()
    assert client.get("/").status_code == 302
    assert "failed login for 'li'" in caplog.text
    failed = db_session.scalars(select(AuditRecord).where(AuditRecord.action == "login_failed")).all()
    assert len(failed) == 1 and failed[0].address == "127.0.0.1"
    assert sign_in(client, "nobody").status_code == 401


def test_form_without_csrf_token_is_refused(client, make_user):
    make_user("inspector", username="zhao")
    r = client.post("/login", data={"username": "zhao", "password": PASSWORD})
    assert r.status_code == 400
    assert client.get("/").status_code == 302


def test_login_attempts_are_rate_limited(client, make_user):
    make_user("inspector", username="chen")
    codes = [sign_in(client, "chen", "wrong").status_code for _ in range(10)]
    assert codes == [401] * 10
    assert sign_in(client, "chen").status_code == 429


def test_disabled_user_cannot_sign_in(client, make_user, db_session):
    user, _ = make_user("inspector", username="sun")
    user.active = False
    db_session.commit()
    assert sign_in(client, "sun").status_code == 401


def test_idle_and_absolute_expiry(client, make_user, app):
    make_user("inspector", username="zhou")
    sign_in(client, "zhou")
    assert client.get("/").status_code == 200
    with client.session_transaction() as s:
        s["seen_at"] = time.time() - app.config["SESSION_IDLE_MINUTES"] * 60 - 5
    assert client.get("/").status_code == 302
    sign_in(client, "zhou")
    with client.session_transaction() as s:
        s["login_at"] = time.time() - app.config["SESSION_ABSOLUTE_HOURS"] * 3600 - 5
    assert client.get("/").status_code == 302


def test_changing_the_password_ends_other_sessions(app, make_user, db_session):
    make_user("inspector", username="wu")
    first, second = app.test_client(), app.test_client()
    sign_in(first, "wu")
    sign_in(second, "wu")
    token = csrf_token(first, "/account/password")
    r = first.post("/account/password", data={"csrf_token": token, "current_password": PASSWORD,
                                               "new_password": "a-new-password", "confirm": "a-new-password"})
    assert r.status_code == 302
    assert first.get("/").status_code == 200
    assert second.get("/").status_code == 302
    bad = first.post("/account/password", data={"csrf_token": csrf_token(first, "/account/password"),
                                                 "current_password": "wrong", "new_password": "x-long-enough",
                                                 "confirm": "x-long-enough"})
    assert bad.status_code == 200 and "当前密码不正确" in bad.data.decode()  # the service's message, in Chinese


def test_next_parameter_cannot_redirect_off_site(client, make_user):
    make_user("inspector", username="zheng")
    r = sign_in(client, "zheng", next_url="?next=https://evil.example/")
    assert r.headers["Location"] == "/"
    client.get("/")


def test_api_ignores_session_cookies(client, make_user):
    make_user("admin", username="feng")
    sign_in(client, "feng")
    api = client.get("/api/me")
    assert api.status_code == 401
    assert "Set-Cookie" not in api.headers  # the cookie was neither read nor changed
    assert client.get("/").status_code == 200  # and the pages' session goes on


def test_security_headers(client, db_session):
    for path in ("/login", "/healthz", "/api/openapi.json", "/api/docs"):
        headers = client.get(path).headers
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "unsafe-inline" not in csp
        assert headers["X-Content-Type-Options"] == "nosniff"
        assert headers["X-Frame-Options"] == "DENY"
        assert headers["Referrer-Policy"] == "same-origin"
        assert "Strict-Transport-Security" not in headers
    assert "Strict-Transport-Security" in client.get("/healthz", base_url="https://localhost").headers
    docs = client.get("/api/docs").data.decode()
    assert "<script>" not in docs and "/api/docs/init.js" in docs
    assert client.get("/api/docs/init.js").status_code == 200


def test_pages_and_downloads_are_not_kept_by_the_browser_but_static_files_are(client, make_user, db_session):
    make_user("supervisor", username="qian")
    sign_in(client, "qian")
    for path in ("/", "/batches", "/reports/attainment", "/reports/attainment?year=2025&format=xlsx", "/login"):
        r = client.get(path)
        assert r.status_code in (200, 302) and r.headers["Cache-Control"] == "no-store", path
    static = client.get("/web-static/app.css")
    assert static.status_code == 200 and "no-store" not in static.headers["Cache-Control"]


def test_errors_never_carry_a_stack_trace(app, client, admin, monkeypatch):
    _, h = admin
    import inspection.services.stats as stats

    def boom(*args, **kwargs):
        raise RuntimeError("secret internals")

    monkeypatch.setattr("inspection.views.stats.pass_rates", boom)
    r = client.get("/api/stats/pass-rates", headers=h)
    assert r.status_code == 500 and r.json["message"] == "internal error; it has been logged"
    assert "secret internals" not in r.data.decode() and "Traceback" not in r.data.decode()
    assert stats.pass_rates is not boom


def test_the_sign_in_prompt_is_in_the_pages_language(client, db_session):
    # Flask-Login's own prompt is English ("Please log in to access this page."); ours is translated.
    page = client.get("/", follow_redirects=True).data.decode()
    assert "请先登录再访问此页面。" in page and "Please log in" not in page
    token = csrf_token(client)
    client.post("/language", data={"lang": "en", "csrf_token": token, "next": "/login"})
    page = client.get("/", follow_redirects=True).data.decode()
    assert "Please sign in to see this page." in page


def test_an_unknown_name_costs_the_same_password_check_as_a_known_one(client, make_user, db_session, monkeypatch):
    # How long a wrong sign-in takes must not tell an outsider which usernames exist: argon2 is
    # the whole cost of a sign-in, so every attempt runs it once.
    import core.auth.services as services

    checks = []
    real = services._hasher

    class Counting:
        hash = real.hash

        def verify(self, hashed, password):
            checks.append(hashed)
            return real.verify(hashed, password)

    monkeypatch.setattr(services, "_hasher", Counting())
    user, _ = make_user("inspector", username="sun")
    assert sign_in(client, "no-such-user").status_code == 401
    assert sign_in(client, "sun", "wrong password").status_code == 401
    user.active = False
    db_session.commit()
    assert sign_in(client, "sun").status_code == 401  # the right password of a disabled account
    assert len(checks) == 3 and checks[0] != checks[1] == checks[2] == user.password_hash
