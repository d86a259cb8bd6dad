"""Web sessions (Flask-Login): loading the user, idle and absolute expiry, CSRF on forms.

The cookie is Flask's signed client-side session; what makes it good is its row in
`web_sessions` (core.auth.models.WebSession), which sign-out, the limits and account changes end.
"""
from __future__ import annotations

import time
from datetime import timedelta

from flask import Flask, current_app, g, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import logout_user

from core.auth.models import User
from core.auth.services import end_web_sessions, web_session_ending, web_session_named
from core.extensions import csrf, db, login_manager
from core.models import utcnow


# How often a page request moves its session's last_seen_at: one write a minute at most, not
# one a page; the idle limit is 30 minutes, so a minute's slack does not matter.
TOUCH_EVERY = timedelta(minutes=1)


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    # The session's row was read and checked before the request (`_expire_and_protect`); a
    # cookie without a live row has no user, whatever its signature.
    row = g.get("web_session")
    user_id, _, stamp = session_id.partition(".")
    if row is None or not user_id.isdigit() or row.user_id != int(user_id):
        return None
    user = row.user
    if not user.active or user.get_id() != session_id:
        return None
    return user


def _resume_web_session() -> bool:
    """Whether the signed-in session this request's cookie names may go on. Its server row must
    be there and open, and neither limit passed, by the cookie's timestamps nor by the row's (the
    row's cannot be refreshed by replaying a copy of the cookie). A session found past a limit
    is ended for good; a live one is marked seen."""
    now = time.time()
    config = current_app.config
    idle = timedelta(minutes=config["SESSION_IDLE_MINUTES"])
    absolute = timedelta(hours=config["SESSION_ABSOLUTE_HOURS"])
    row = web_session_named(db.session, session.get("sid"))
    if row is None:
        return False  # signed in before sessions were kept on the server, or pruned
    started, seen = session.get("login_at") or 0, session.get("seen_at") or 0
    reason = web_session_ending(row, idle, absolute)
    if reason is None and now - started > absolute.total_seconds():
        reason = "expired"
    elif reason is None and now - seen > idle.total_seconds():
        reason = "idle"
    if reason == "ended":
        return False
    if reason is not None:
        end_web_sessions(db.session, row.user_id, reason, only=row.id)
        db.session.commit()
        return False
    session["seen_at"] = now
    if utcnow() - row.last_seen_at >= TOUCH_EVERY:
        row.last_seen_at = utcnow()
        db.session.commit()
    g.web_session = row
    return True


class CookieSessionsOffTheApi(SecureCookieSessionInterface):
    """The API authenticates by bearer token, never by cookie: an /api request gets an empty
    session without the cookie being read or its signature checked (a cookie a browser sends
    along is neither used nor changed)."""

    def open_session(self, app, request):
        if request.path.startswith("/api/"):
            return self.session_class()
        return super().open_session(app, request)


def register_sessions(app: Flask) -> None:
    app.session_interface = CookieSessionsOffTheApi()
    login_manager.init_app(app)
    login_manager.login_view = "web.login"
    login_manager.session_protection = "strong"
    csrf.init_app(app)

    @app.before_request
    def _expire_and_protect():
        if request.path.startswith("/api/"):
            return None  # the API authenticates by bearer token, never by cookie
        # A test's requests can share one app context and so `g`: nothing of another request's.
        g.pop("web_session", None)
        if ("login_at" in session or "_user_id" in session) and not _resume_web_session():
            logout_user()
            session.clear()
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            csrf.protect()
        return None
