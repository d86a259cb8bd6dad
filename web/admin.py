"""Administrator pages: users and roles, category floors, the holiday calendar, webhooks, the audit log."""
from __future__ import annotations

from datetime import date

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.audit import list_audit
from core.auth.models import ROLES
from core.auth.services import create_user, get_user, list_users, reset_password, update_user, user_named
from core.extensions import db
from core.clock import local_today
from core.reference.floors import list_floors, set_floor
from followup.services.calendar_days import list_days, set_day
from warning.notify.services import create_webhook, list_webhooks, update_webhook
from web import ROLE_LABELS, audit_view
from web.access import page_requires
from web.choices import category_choices, region_choices
from web.forms import EmptyForm, FloorForm, HolidayForm, UserEditForm, UserForm, WebhookForm
from web.pages import page_blueprint, run_service, usernames
from web.supervision import LEVEL_LABELS

bp = page_blueprint("admin", __name__, url_prefix="/admin")
PAGE = 50


def _role_choices():
    return [(r, ROLE_LABELS[r]) for r in ROLES]


@bp.route("/users", methods=["GET", "POST"])
@page_requires("administer")
def users():
    """Every account, and a form to add one."""
    form = UserForm()
    form.roles.choices, form.region.choices = _role_choices(), region_choices(None)
    problems: list[str] = []
    if form.validate_on_submit():
        done, problems = run_service(form, lambda: create_user(
            db.session, form.username.data, form.password.data, form.roles.data, form.region.data, actor_id=g.user.id,
            full_name=form.full_name.data))
        if done is not None:
            flash(_("User %(name)s created.", name=done.username), "info")
            return redirect(url_for(".users"))
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = list_users(db.session, PAGE + 1, (page - 1) * PAGE)
    return render_template("admin/users.html", rows=rows[:PAGE], form=form, problems=problems,
                           prev_url=url_for(".users", page=page - 1) if page > 1 else None,
                           next_url=url_for(".users", page=page + 1) if len(rows) > PAGE else None), \
        422 if form.errors or problems else 200


def _edit_form(account, submitted: bool) -> UserEditForm:
    """The account's form: as submitted, or filled from the account."""
    form = UserEditForm() if submitted else UserEditForm(data={
        "full_name": account.full_name, "roles": sorted(account.roles), "region": account.region_code,
        "active": account.active})
    form.roles.choices, form.region.choices = _role_choices(), region_choices(None)
    return form


@bp.route("/users/<int(min=1, max=2147483647):user_id>", methods=["GET", "POST"])
@page_requires("administer")
def user(user_id: int):
    """Change a user's full name, roles, region or active flag (accounts are disabled, never deleted)."""
    account = get_user(db.session, user_id)
    form = _edit_form(account, submitted=request.method == "POST")
    problems: list[str] = []
    if form.validate_on_submit():
        changes = {"full_name": form.full_name.data, "roles": form.roles.data, "region": form.region.data,
                   "active": bool(form.active.data)}
        done, problems = run_service(form, lambda: update_user(db.session, user_id, changes, g.user.id))
        if done is not None:
            flash(_("User %(name)s updated.", name=account.username), "info")
            return redirect(url_for(".users"))
    return render_template("admin/user.html", account=account, form=form, problems=problems,
                           reset_form=EmptyForm()), 422 if form.errors or problems else 200


@bp.post("/users/<int(min=1, max=2147483647):user_id>/password")
@page_requires("administer")
def user_password(user_id: int):
    """Reset a user's password to a temporary one, shown on this answer only (never flashed: the
    session cookie is signed, not encrypted)."""
    account = get_user(db.session, user_id)
    if not EmptyForm().validate_on_submit():
        return redirect(url_for(".user", user_id=user_id))
    temporary = reset_password(db.session, user_id, g.user.id)
    return render_template("admin/user.html", account=account, form=_edit_form(account, submitted=False), problems=[],
                           reset_form=EmptyForm(), temporary=temporary)


@bp.route("/floors", methods=["GET", "POST"])
@page_requires("administer")
def floors():
    """The dated history of floors, and a form to set a new one from a date on."""
    form = FloorForm()
    form.category.choices = category_choices(include_all=True)
    problems: list[str] = []
    if form.validate_on_submit():
        done, problems = run_service(form, lambda: set_floor(
            db.session, form.category.data, float(form.floor.data / 100), form.effective_from.data,
            form.note.data or None, g.user.id))
        if done is not None:
            flash(_("Floor set."), "info")
            return redirect(url_for(".floors"))
    return render_template("admin/floors.html", rows=list_floors(db.session), form=form, problems=problems), \
        422 if form.errors or problems else 200


@bp.get("/audit")
@page_requires("administer")
def audit():
    """The audit trail, newest first, filtered by record type, record, user or action."""
    filters = {k: request.args.get(k, "").strip()[:64] or None for k in ("entity", "entity_id", "action")}
    username = request.args.get("user", "").strip()[:64] or None
    user_id = request.args.get("user_id", type=int)
    if username and user_id is None:  # no such user: nothing matches (0 is no one's id)
        user = user_named(db.session, username)  # any case, as at sign-in
        user_id = user.id if user else 0
    before_id = request.args.get("before_id", type=int)
    rows = list_audit(db.session, PAGE + 1, user_id=user_id, before_id=before_id, **filters)
    names = usernames(r.user_id for r in rows)
    kept = {k: v for k, v in {**filters, "user": username, "user_id": None if username else user_id}.items() if v}
    return render_template("admin/audit.html", rows=rows[:PAGE], filters=filters, username=username,
                           user_id=None if username else user_id, names=names, actions=audit_view.ACTIONS,
                           entities={code: label for code, (label, _page) in audit_view.ENTITIES.items()},
                           view=audit_view,
                           first_url=url_for(".audit", **kept) if before_id else None,
                           next_url=url_for(".audit", before_id=rows[PAGE - 1].id, **kept) if len(rows) > PAGE else None)


@bp.route("/holidays", methods=["GET", "POST"])
@page_requires("administer")
def holidays():
    """A year's overrides of the working-day calendar, and a form to declare a date working or off."""
    year = request.args.get("year", type=int) or local_today().year
    year = min(max(year, 2000), 2100)
    form = HolidayForm()
    problems: list[str] = []
    if form.validate_on_submit():
        done, problems = run_service(form, lambda: set_day(db.session, form.day.data, form.working.data == "1",
                                                           form.note.data, g.user.id))
        if done is not None:
            flash(_("Calendar day saved."), "info")
            return redirect(url_for(".holidays", year=form.day.data.year))
    rows = list_days(db.session, date(year, 1, 1), date(year, 12, 31))
    return render_template("admin/holidays.html", rows=rows, year=year, form=form, problems=problems), \
        422 if form.errors or problems else 200


def _filter_choices(form) -> None:
    form.region.choices, form.category.choices = region_choices(None), category_choices(include_all=True)


@bp.route("/webhooks", methods=["GET", "POST"])
@page_requires("administer")
def webhooks():
    """Registered webhooks; a new one's secret is shown once, on the page that registers it."""
    form = WebhookForm()
    _filter_choices(form)
    problems: list[str] = []
    secret = None
    if form.validate_on_submit():
        done, problems = run_service(form, lambda: create_webhook(db.session, {"url": form.url.data.strip(),
                                                                               **form.filters()}, g.user.id))
        if done is not None:
            secret = done.secret  # never shown again: not in the list, not in the audit trail
            flash(_("Webhook registered. Copy its secret now: it will not be shown again."), "info")
            form = WebhookForm(formdata=None)
            _filter_choices(form)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = list_webhooks(db.session, PAGE + 1, (page - 1) * PAGE)
    return render_template("admin/webhooks.html", rows=rows[:PAGE], form=form, problems=problems, secret=secret,
                           action_form=EmptyForm(), level_labels=LEVEL_LABELS,
                           prev_url=url_for(".webhooks", page=page - 1) if page > 1 else None,
                           next_url=url_for(".webhooks", page=page + 1) if len(rows) > PAGE else None), \
        422 if form.errors or problems else 200


@bp.post("/webhooks/<int(min=1, max=2147483647):hook_id>/deactivate")
@page_requires("administer")
def webhook_deactivate(hook_id: int):
    if EmptyForm().validate_on_submit():
        update_webhook(db.session, hook_id, {"active": False}, g.user.id, "deactivate")
        flash(_("Webhook deactivated."), "info")
    return redirect(url_for(".webhooks"))
