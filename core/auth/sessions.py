"""Web sessions (Flask-Login): loading the user, idle and absolute expiry, CSRF on forms."""
from __future__ import annotations

import time

from flask import Flask, current_app, request, session
from flask.sessions import SecureCookieSessionInterface
from flask_login import logout_user

from core.auth.models import User
from core.extensions import csrf, db, login_manager


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    user_id, _, stamp = session_id.partition(".")
    if not user_id.isdigit():
        return None
    user = db.session.get(User, int(user_id))
    if user is None or not user.active or user.get_id() != session_id:
        return None
    return user


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
        now = time.time()
        started, seen = session.get("login_at"), session.get("seen_at")
        idle = current_app.config["SESSION_IDLE_MINUTES"] * 60
        absolute = current_app.config["SESSION_ABSOLUTE_HOURS"] * 3600
        if started and (now - started > absolute or (seen and now - seen > idle)):
            logout_user()
            session.clear()
        elif started:
            session["seen_at"] = now
        if request.method in ("POST", "PUT", "PATCH", "DELETE"):
            csrf.protect()
        return None
