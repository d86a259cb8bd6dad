"""Supervisor pages: the category x region dashboard, a series' chart, the alert inbox."""
from __future__ import annotations

import re

from flask import current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from core.auth.permissions import may
from core.clock import local_today, month_of, shift_month
from core.errors import DomainError
from core.extensions import db
from core.reference.models import ALL_PRODUCTS
from core.reference.trees import PROVINCE, load_trees
from core.replica import statistics_session
from followup.services.cases import CaseFilter, list_cases
from inspection.services.stats import RateQuery, pass_rates, wilson
from warning.alerts import (ALERT_SORTS, TRANSITIONS, AlertFilter, act_on_alert, get_alert, latest_model_summary,
                            list_alerts, series_history)
from warning.engine.levels import LEVELS
from warning.models import alert_assessment
from warning.scan import last_complete_month
from warning.track_record import track_record
from web.access import page_requires, user_scope
from web.charts import plotly_locale, with_chart_csp
from web.choices import category_choices, region_choices
from web.followup import CASE_KINDS, CASE_STATUSES
from web.forms import AlertActionForm
from web.i18n import is_english, month_name
from web.pages import page_blueprint, usernames

bp = page_blueprint("supervision", __name__, url_prefix="/supervision")
ALERTS_PAGE = 25
STATUSES = {"open": _l("Open"), "acknowledged": _l("Acknowledged"), "escalated": _l("Escalated"),
            "dismissed": _l("Dismissed"), "resolved": _l("Resolved")}
LEVEL_LABELS = {"none": _l("None"), "blue": _l("Blue"), "yellow": _l("Yellow"), "orange": _l("Orange"),
                "red": _l("Red")}
EVENTS = {"raised": _l("Raised by the scan"), "resolved": _l("Resolved by the scan"),
          "escalated": _l("Level raised by the scan"), "lowered": _l("Level lowered by the scan"),
          "acknowledged": _l("Acknowledged"), "escalated_by_user": _l("Escalated"), "dismissed": _l("Dismissed")}
PERIOD_PATTERNS = {"month": re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$"), "quarter": re.compile(r"^(\d{4})-Q([1-4])$"),
                   "year": re.compile(r"^(\d{4})$")}


def gap_class(gap: float | None) -> str:
    """The cell's colour: how far the pass rate lies above or below its floor."""
    if gap is None:
        return "none"
    if gap >= 0.02:
        return "ok"
    if gap >= 0:
        return "near"
    return "below" if gap >= -0.05 else "far"


def _months_of(period: str, at: str) -> tuple[str, str] | None:
    match = PERIOD_PATTERNS[period].match(at)
    if not match:
        return None
    year = match.group(1)
    if period == "month":
        return at, at
    if period == "quarter":
        q = int(match.group(2))
        return f"{year}-{3 * q - 2:02d}", f"{year}-{3 * q:02d}"
    return f"{year}-01", f"{year}-12"


def _as_period(at: str, period: str, latest: str) -> str | None:
    """`at` written for another period (the field still holds "2026" after switching to
    quarters) as the `period` holding its last month, no later than `latest`."""
    for other, pattern in PERIOD_PATTERNS.items():
        if other != period and pattern.match(at):
            year, month = min(_months_of(other, at)[1], _months_of(period, latest)[1]).split("-")
            return {"year": year, "quarter": f"{year}-Q{(int(month) - 1) // 3 + 1}", "month": f"{year}-{month}"}[period]
    return None


@bp.get("/dashboard")
@page_requires("read")
def dashboard():
    """Pass rates of the chosen period: categories down, regions across, coloured by the gap to the floor."""
    trees = load_trees(db.session)
    scope = user_scope()
    period = request.args.get("period") if request.args.get("period") in PERIOD_PATTERNS else "year"
    default_at = {"year": str(local_today().year), "quarter": f"{local_today().year}-Q{(local_today().month - 1) // 3 + 1}",
                  "month": shift_month(month_of(local_today()), -1)}[period]
    at = request.args.get("at", "").strip() or default_at
    problems = []
    span = _months_of(period, at)
    if span is None and _as_period(at, period, default_at):
        at = _as_period(at, period, default_at)
        span = _months_of(period, at)
    if span is None:
        problems.append(_("The period %(at)s is not understood; showing %(default)s.", at=at, default=default_at))
        at, span = default_at, _months_of(period, default_at)
    region = request.args.get("region") or scope or PROVINCE
    category = request.args.get("category") or ALL_PRODUCTS
    if region not in trees.regions or (scope and region not in trees.regions.subtree(scope)):
        region = scope or PROVINCE
    if category != ALL_PRODUCTS and category not in trees.categories:
        category = ALL_PRODUCTS
    query = dict(category=None if category == ALL_PRODUCTS else category, region=region, period=period,
                 from_month=span[0], to_month=span[1])
    # The chosen category (a total row) over its sub-categories; the chosen region over its sub-regions.
    with statistics_session() as session:
        rows = [r for breakdown in ("none", "region", "category", "both")
                for r in pass_rates(session, RateQuery(breakdown=breakdown, **query), scope)]
    cells = {(r["category"], r["region"]): r for r in rows}
    categories = list(dict.fromkeys(r["category"] for r in rows))
    columns = [region] + trees.regions.kids(region)
    drillable = {c for c in categories if c != category and trees.categories.kids(c)}
    # An empty period would draw a grid of "– · n=0": say that nothing was sampled instead.
    has_data = any(r["batches"] for r in rows)
    # the way back up: every level from the user's own region (all products) down to the one shown
    region_trail = [r for r in reversed(trees.regions.ancestors(region))
                    if scope is None or r in trees.regions.subtree(scope)]
    category_trail = [ALL_PRODUCTS] + ([] if category == ALL_PRODUCTS
                                       else list(reversed(trees.categories.ancestors(category))))
    return render_template("supervision/dashboard.html", cells=cells, categories=categories, columns=columns,
                           region_trail=region_trail, category_trail=category_trail, has_data=has_data,
                           period=period, at=at, region=region, category=category, problems=problems,
                           gap_class=gap_class, region_options=region_choices(scope),
                           category_options=category_choices(include_all=True), drillable=drillable)


def _reasons_of(assessment) -> str:
    return (assessment.reasons.get("en" if is_english() else "zh") if assessment else None) or ""


@bp.get("/series")
@page_requires("read")
def series():
    """One series: monthly pass rate with its interval, the floor, the forecast band and the reasons."""
    category = request.args.get("category", ALL_PRODUCTS)
    region = request.args.get("region") or user_scope() or PROVINCE
    history = series_history(db.session, category, region, user_scope())
    months = []
    for m in history["months"]:
        low, high = wilson(m["batches"] - m["failed"], m["batches"])
        months.append({**m, "ci_low": low, "ci_high": high})
    assessment = history["assessment"]
    forecast = assessment.forecast if assessment else []
    reasons = _reasons_of(assessment)
    chart = {
        # the months as the tables write them (2025年7月), not ISO
        "months": [month_name(m["month"]) for m in months], "rate": [m["pass_rate"] for m in months],
        "low": [m["ci_low"] for m in months], "high": [m["ci_high"] for m in months],
        "floor": [m["floor"] for m in months],
        "forecast": {"months": [month_name(f["month"]) for f in forecast], "rate": [f.get("rate") for f in forecast],
                     "low": [f.get("lo") for f in forecast], "high": [f.get("hi") for f in forecast]},
        "labels": {"rate": _("Pass rate"), "interval": _("95 percent interval"), "floor": _("Floor"),
                   "forecast": _("Forecast"), "band": _("Forecast band"), "month": _("Month")},
        "locale": plotly_locale(),
    }
    return with_chart_csp(make_response(render_template(
        "supervision/series.html", category=category, region=region, months=months, assessment=assessment,
        reasons=reasons, chart=chart, level_labels=LEVEL_LABELS)))


@bp.get("/alerts")
@page_requires("read")
def alerts():
    """The alert inbox: the open ones by default, the most severe first (or the latest changed),
    filterable by status and level."""
    status = request.args.get("status", "open")
    status = status if status in STATUSES else None
    level = request.args.get("level") if request.args.get("level") in LEVELS else None
    sort = request.args.get("sort") if request.args.get("sort") in ALERT_SORTS else "-severity"
    page = max(1, request.args.get("page", 1, type=int) or 1)
    rows = list_alerts(db.session, AlertFilter(level=level, status=status, sort=sort), user_scope(),
                       ALERTS_PAGE + 1, (page - 1) * ALERTS_PAGE)
    more = len(rows) > ALERTS_PAGE
    kept = {"status": status or "all", "sort": sort, **({"level": level} if level else {})}
    return render_template("supervision/alerts.html", rows=rows[:ALERTS_PAGE], status=status, level=level, sort=sort,
                           statuses=STATUSES, level_labels=LEVEL_LABELS, model=latest_model_summary(db.session),
                           prev_url=url_for(".alerts", page=page - 1, **kept) if page > 1 else None,
                           next_url=url_for(".alerts", page=page + 1, **kept) if more else None)


@bp.get("/alerts/<int(min=1, max=2147483647):alert_id>")
@page_requires("read")
def alert(alert_id: int):
    """One alert: its series, its history of events and the triage actions its status allows."""
    found = get_alert(db.session, alert_id, user_scope())
    actions = [a for a, (starts, _to, _event) in TRANSITIONS.items() if found.status in starts]
    followups = (list_cases(db.session, CaseFilter(alert_id=found.id), user_scope(), 50)
                 if may(g.user, "followup_read") else [])
    assessment = alert_assessment(db.session, found)
    return render_template("supervision/alert.html", alert=found, actions=actions, form=AlertActionForm(),
                           assessment=assessment, reasons=_reasons_of(assessment),
                           statuses=STATUSES, level_labels=LEVEL_LABELS, events=EVENTS, cases=followups,
                           case_statuses=CASE_STATUSES, case_kinds=CASE_KINDS,
                           users=usernames(e.user_id for e in found.events))


@bp.get("/alerts/track-record")
@page_requires("read")
def track_record_page():
    """How past warnings turned out, by level, within the user's region."""
    with statistics_session() as session:
        record = track_record(session, user_scope(), last_complete_month())
    return render_template("supervision/track_record.html", record=record, level_labels=LEVEL_LABELS)


ACTION_DONE = {"acknowledge": _l("Alert acknowledged."), "escalate": _l("Alert escalated."),
               "dismiss": _l("Alert dismissed.")}


@bp.post("/alerts/<int(min=1, max=2147483647):alert_id>/<any(acknowledge, escalate, dismiss):action>")
@page_requires("triage")
def alert_action(alert_id: int, action: str):
    """Acknowledge, escalate or dismiss (with a reason) an alert."""
    form = AlertActionForm()
    if not form.validate_on_submit():
        # a note too long says so; only a missing or stale CSRF token is an expired form
        flash(form.note.errors[0] if form.note.errors else _("The form expired; please try again."), "error")
    else:
        try:
            act_on_alert(db.session, alert_id, action, form.note.data, g.user.id, user_scope(),
                         current_app.config["ALERT_DISMISS_SNOOZE_DAYS"])
        except DomainError as error:
            db.session.rollback()
            if error.status == 404:
                raise
            message = _("Dismissing an alert needs a reason.") if "reason" in (error.errors or {}) \
                else _("The alert's status no longer allows this; it was changed meanwhile.")
            flash(message, "error")
        else:
            flash(ACTION_DONE[action], "info")
    return redirect(url_for(".alert", alert_id=alert_id))
