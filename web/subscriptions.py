"""A supervisor's own alert subscriptions: alerts of a region and category, from a level up, by email."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.extensions import db
from warning.notify.services import create_subscription, get_subscription, list_subscriptions, update_subscription
from web.access import page_requires, user_scope
from web.choices import category_choices, region_choices
from web.forms import EmptyForm, SubscriptionForm
from web.pages import page_blueprint, run_service
from web.supervision import LEVEL_LABELS

bp = page_blueprint("subscription_pages", __name__, url_prefix="/supervision/subscriptions")
PAGE = 50


def _form(**kwargs) -> SubscriptionForm:
    form = SubscriptionForm(**kwargs)
    form.region.choices = region_choices(user_scope())
    form.category.choices = category_choices(include_all=True)
    return form


@bp.route("", methods=["GET", "POST"])
@page_requires("triage")
def index():
    """The signed-in supervisor's subscriptions, and a form to add one (their own region at most)."""
    form = _form()
    problems: list[str] = []
    if form.validate_on_submit():
        done, problems = run_service(form, lambda: create_subscription(
            db.session, {"email": form.email.data.strip(), **form.filters()}, g.user.id, user_scope()))
        if done is not None:
            flash(_("Subscription created."), "info")
            return redirect(url_for(".index"))
    # Everyone sees only their own here, administrators included (their API lists all).
    rows = list_subscriptions(db.session, g.user.id, False, PAGE, 0)
    return render_template("supervision/subscriptions.html", rows=rows, form=form, problems=problems,
                           action_form=EmptyForm(), level_labels=LEVEL_LABELS), \
        422 if form.errors or problems else 200


@bp.route("/<int(min=1, max=2147483647):sub_id>", methods=["GET", "POST"])
@page_requires("triage")
def edit(sub_id: int):
    sub = get_subscription(db.session, sub_id, g.user.id, False)
    form = _form(data={"email": sub.email, "region": sub.region_code, "category": sub.category_code,
                       "min_level": sub.min_level, "active": sub.active} if request.method == "GET" else None)
    problems: list[str] = []
    if form.validate_on_submit():
        changes = {"email": form.email.data.strip(), "active": bool(form.active.data), **form.filters()}
        done, problems = run_service(form, lambda: update_subscription(db.session, sub_id, changes, g.user.id, False,
                                                                       user_scope()))
        if done is not None:
            flash(_("Subscription saved."), "info")
            return redirect(url_for(".index"))
    return render_template("supervision/subscription.html", sub=sub, form=form, problems=problems), \
        422 if form.errors or problems else 200


@bp.post("/<int(min=1, max=2147483647):sub_id>/deactivate")
@page_requires("triage")
def deactivate(sub_id: int):
    if EmptyForm().validate_on_submit():
        update_subscription(db.session, sub_id, {"active": False}, g.user.id, False, user_scope(), "deactivate")
        flash(_("Subscription deactivated."), "info")
    return redirect(url_for(".index"))
