"""Opening a recall or traceability case from an early-warning alert (the follow-up of a risk
that no single failed batch shows yet). Its routes are on the follow-up pages' blueprint."""
from __future__ import annotations

from flask import flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _

from core.extensions import db
from followup.services import cases
from warning.alerts import get_alert
from web import category_label, region_label
from web.access import page_requires, user_scope
from web.followup import _status, bp
from web.followup_forms import AlertCaseForm
from web.pages import run_service


@bp.route("/alerts/<int(min=1, max=2147483647):alert_id>/case", methods=["GET", "POST"])
@page_requires("followup_write")
def new_alert_case(alert_id: int):
    """Open a case from an alert in the officer's region."""
    alert = get_alert(db.session, alert_id, user_scope())
    root = alert.category_code.split(".")[0]
    form = AlertCaseForm(data={
        "kind": "traceability", "product_type": root,
        "title": _("Follow-up of the alert on %(category)s in %(region)s",
                   category=category_label(alert.category_code), region=region_label(alert.region_code)),
    } if request.method == "GET" else None)
    problems: list[str] = []
    if form.validate_on_submit():
        data = {"kind": form.kind.data, "alert_id": alert.id, "title": form.title.data,
                "level": form.level.data or None, "product_type": form.product_type.data or None,
                "note": form.note.data or None}
        done, problems = run_service(form, lambda: cases.open_case(db.session, data, g.user.id, user_scope()))
        if done is not None:
            flash(_("Case opened."), "info")
            return redirect(url_for(".case", case_id=done.id))
    return render_template("followup/alert_case.html", alert=alert, form=form, problems=problems), \
        _status(form, problems)
