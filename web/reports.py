"""Reports: the yearly target-attainment report by region, as a page and as XLSX."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from core.clock import local_today
from core.export import download
from core.extensions import db
from core.reference.trees import PROVINCE
from inspection.services.attainment import FIRST_YEAR, LAST_YEAR, REPORT_COLUMNS, attainment_report
from web.access import page_requires, user_scope
from web.choices import region_choices
from web.pages import page_blueprint

bp = page_blueprint("reports", __name__, url_prefix="/reports")


@bp.get("/attainment")
@page_requires("read")
def attainment():
    """Pass rates against floors by category for a region and its sub-regions, and the change on last year."""
    default_year = local_today().year - 1  # the assessment is of the year just closed
    raw = request.args.get("year", "").strip()
    problems = []
    year = int(raw) if raw.isdigit() else default_year
    if raw and (not raw.isdigit() or not FIRST_YEAR <= year <= LAST_YEAR):
        # Say so rather than silently showing another year (as the dashboard does for a period).
        problems.append(_("The year %(year)s is not understood; showing %(default)s.", year=raw, default=default_year))
        year = default_year
    region = request.args.get("region") or user_scope() or PROVINCE
    sections = attainment_report(db.session, year, region, user_scope())
    if request.args.get("format") == "xlsx":
        rows = ([r[c] for c in REPORT_COLUMNS] for s in sections for r in s["rows"])
        return download(REPORT_COLUMNS, rows, "xlsx", f"attainment-{year}-{region}")
    # A year without a batch would show tables of zeros and "0 of 0 categories": say it instead.
    has_data = any(r["batches"] for s in sections for r in s["rows"])
    return render_template("reports/attainment.html", sections=sections, year=year, region=region,
                           problems=problems, has_data=has_data, region_options=region_choices(user_scope()))
