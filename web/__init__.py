"""Server-rendered pages (Jinja) for each role, on the same services as the API."""
from __future__ import annotations

from flask import Flask, redirect, url_for
from flask_babel import lazy_gettext as _l

from core.errors import use_error_pages
from core.extensions import db, login_manager
from core.reference.trees import load_trees
from core.warmup import on_warm_up
from web.access import can
from web.charts import plotly_gzipped, plotly_js
from web.forms import EmptyForm
from web.i18n import node_name, register_i18n
from web.navigation import menu
from web.pages import error_page

ROLE_LABELS = {"inspector": _l("Inspector"), "supervisor": _l("Supervisor"), "agency": _l("Enforcement agency"),
               "admin": _l("Administrator")}


def region_label(code: str | None) -> str:
    node = load_trees(db.session).regions.nodes.get(code) if code else None
    return node_name(node) if node else (code or "")


def category_label(code: str | None) -> str:
    if code == "*":
        return str(_l("All products"))
    node = load_trees(db.session).categories.nodes.get(code) if code else None
    return node_name(node) if node else (code or "")


def role_labels(roles) -> str:
    return "、".join(str(ROLE_LABELS.get(r, r)) for r in sorted(roles))


def register_pages(app: Flask) -> None:
    from web.admin import bp as admin_bp
    from web.auth import bp as auth_bp
    from web.batches import bp as batches_bp
    from web.followup import bp as followup_bp
    from web.reports import bp as reports_bp
    from web.subscriptions import bp as subscriptions_bp
    from web.supervision import bp as supervision_bp

    register_i18n(app)
    # A browser reads every path outside /api: its errors (an unknown URL, a POST-only URL
    # reached by GET after a refused form) are pages too, not the API's JSON.
    use_error_pages(app, error_page)
    # Flask-Login flashes its own English default to a visitor who is not signed in; ours is
    # translated when flashed (str() resolves the lazy text in the visitor's language, and the
    # session stores the plain text).
    login_manager.login_message = _l("Please sign in to see this page.")
    login_manager.localize_callback = str
    for bp in (auth_bp, batches_bp, supervision_bp, reports_bp, admin_bp, followup_bp, subscriptions_bp):
        app.register_blueprint(bp)
    app.add_url_rule("/web-static/vendor/plotly.min.js", "plotly_js", plotly_js)
    # Compressing plotly.js takes about 0.3 s a process: done before the first chart, not during it.
    on_warm_up(app, plotly_gzipped)
    # Notification emails link to BASE_URL/alerts/<id> (warning.notify.outbox): send it to the alert page.
    app.add_url_rule("/alerts/<int(min=1, max=2147483647):alert_id>", "alert_link",
                     lambda alert_id: redirect(url_for("supervision.alert", alert_id=alert_id)))
    app.jinja_env.globals.update(menu=menu, can=can, region_label=region_label, category_label=category_label,
                                 role_labels=role_labels)

    @app.context_processor
    def _header_form():
        return {"header_form": EmptyForm()}
