"""Sign-in, sign-out, own password, and the signed-in landing page."""
from __future__ import annotations

import logging
import time
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, g, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from core.audit import audit
from core.auth.permissions import scope_of
from core.auth.services import authenticate, change_password, end_web_sessions, start_web_session
from core.errors import DomainError
from core.extensions import db, limiter
from web.attention import attention
from web.forms import EmptyForm, LoginForm, PasswordForm
from web.i18n import COOKIE, LANGUAGES, translate
from web.supervision import LEVEL_LABELS

log = logging.getLogger(__name__)
bp = Blueprint("web", __name__, template_folder="templates", static_folder="static",
               static_url_path="/web-static")


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an attacker's ?next=https://evil.example must not redirect out.
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("web.home")


def _answers_get(path: str) -> bool:
    try:
        current_app.create_url_adapter(request).match(urlsplit(path).path, method="GET")
    except RequestRedirect:
        return True  # e.g. a missing trailing slash: the browser follows it to the page
    except HTTPException:
        return False
    return True


def _page_to_return_to(target: str | None) -> str:
    """The page to show after switching language: `target` if it answers GET, else the page of
    the record it acted on (a refused form leaves the browser on its POST-only URL, such as
    /batches/<id>/void), else the referring page of this site, else home."""
    target = _safe_next(target)
    path = urlsplit(target).path.rstrip("/")
    candidates = [target] + ["/".join(path.split("/")[:end]) for end in range(path.count("/"), 1, -1)]
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc == request.host and referrer.path:
        candidates.append(referrer.path + (f"?{referrer.query}" if referrer.query else ""))
    return next((c for c in candidates if c.startswith("/") and not c.startswith("//") and _answers_get(c)),
                url_for("web.home"))


# What a user signed in with a temporary password (an administrator's reset) may open.
_WHILE_TEMPORARY = {"web.password", "web.logout", "web.language", "web.static", "static"}


@bp.before_app_request
def _new_password_first():
    """A temporary password opens only the change-password page: whoever read it out or copied
    it to its user could use it too."""
    if request.path.startswith("/api/") or "login_at" not in session:
        return None  # the API goes by tokens; no session, nobody signed in
    if (current_user.is_authenticated and current_user.must_change_password
            and request.endpoint not in _WHILE_TEMPORARY):
        return redirect(url_for("web.password"))
    return None


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["LOGIN_RATE_LIMIT"], methods=["POST"])
def login():
    """Sign in with username and password."""
    form = LoginForm()
    if form.validate_on_submit():
        user, accepted = authenticate(db.session, form.username.data.strip(), form.password.data)
        if accepted:
            previous = g.get("web_session")
            if previous is not None:  # signing in over a session: the cookie it had is done with
                end_web_sessions(db.session, previous.user_id, "replaced", only=previous.id)
            language = session.get(COOKIE)
            session.clear()
            if language:
                session[COOKIE] = language  # the language chosen on the sign-in page stays
            login_user(user)
            session["sid"] = start_web_session(db.session, user.id)
            session["login_at"] = session["seen_at"] = time.time()
            audit(db.session, user.id, "login", "user", user.id)
            db.session.commit()
            return redirect(_safe_next(request.args.get("next")))
        log.warning("failed login for %r from %s", form.username.data, request.remote_addr)
        audit(db.session, user.id if user else None, "login_failed", "user",
              user.id if user else form.username.data[:64])
        db.session.commit()
        flash(_("Wrong username or password"), "error")
    return render_template("login.html", form=form), 200 if request.method == "GET" or form.errors else 401


@bp.post("/logout")
@login_required
def logout():
    """Sign out."""
    if EmptyForm().validate_on_submit():
        # Ended on the server: a copy of the cookie (a shared computer, a proxy log) finds it so.
        end_web_sessions(db.session, current_user.id, "signed_out", only=g.web_session.id)
        audit(db.session, current_user.id, "logout", "user", current_user.id)
        db.session.commit()
        logout_user()
        session.clear()
    return redirect(url_for("web.login"))


@bp.get("/")
@login_required
def home():
    """The landing page after sign-in: what needs the user's attention, then every page they may open."""
    return render_template("home.html", attention=attention(scope_of(current_user)), level_labels=LEVEL_LABELS)


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def password():
    """Change one's own password."""
    form = PasswordForm()
    if form.validate_on_submit():
        try:
            change_password(db.session, current_user, form.current_password.data, form.new_password.data,
                            keep_web_session=g.web_session.id)
        except DomainError as error:
            for field, messages in error.errors.items():
                getattr(form, field).errors = [translate(m) for m in messages]
        else:
            login_user(current_user)  # the session id names the new password
            flash(_("Password changed"), "info")
            return redirect(url_for("web.home"))
    return render_template("password.html", form=form, temporary=current_user.must_change_password)


@bp.post("/language")
def language():
    """Switch the pages' language; kept in the session and, for the next visit, a cookie."""
    chosen = request.form.get("lang")
    accepted = EmptyForm().validate_on_submit() and chosen in LANGUAGES
    if accepted:
        session[COOKIE] = chosen
    response = redirect(_page_to_return_to(request.form.get("next")))
    if accepted:
        response.set_cookie(COOKIE, chosen, max_age=365 * 24 * 3600, samesite="Lax", httponly=True,
                            secure=current_app.config["SESSION_COOKIE_SECURE"])
    return response
