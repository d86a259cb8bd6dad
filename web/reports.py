"""Reports: the yearly target-attainment report by region, as a page and as XLSX."""
from __future__ import annotations

from flask import render_template, request
from flask_babel import gettext as _

from core.clock import local_today
from core.export import download
from core.reference.trees import PROVINCE
from core.replica import statistics_session
from inspection.services.attainment import FIRST_YEAR, LAST_YEAR, attainment_report
from web import category_label, region_label
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
    with statistics_session() as session:
        sections = attainment_report(session, year, region, user_scope())
    if request.args.get("format") == "xlsx":
        return _xlsx(sections, year, region)
    # A year without a batch would show tables of zeros and "0 of 0 categories": say it instead.
    has_data = any(r["batches"] for s in sections for r in s["rows"])
    return render_template("reports/attainment.html", sections=sections, year=year, region=region,
                           problems=problems, has_data=has_data, region_options=region_choices(user_scope()))


PERCENT, POINTS = "0.0%", "+0.0;-0.0;0.0"  # Excel formats: a rate, a change in percentage points


def _xlsx(sections: list[dict], year: int, region: str):
    """The report as the page shows it, for people: names and codes, rates as percentages, the
    verdict in words, headers in the page's language (the API keeps the raw fractions)."""
    columns = [(_("Region"), None), (_("Region code"), None), (_("Category"), None), (_("Category code"), None),
               (_("Year"), None), (_("Batches"), "#,##0"), (_("Failed"), "#,##0"), (_("Pass rate"), PERCENT),
               (_("Confidence interval, low"), PERCENT), (_("Confidence interval, high"), PERCENT),
               (_("Floor"), PERCENT), (_("Attained"), None), (_("Last year"), PERCENT),
               (_("Change (points)"), POINTS)]
    verdict = {True: _("Yes"), False: _("No"), None: "–"}
    rows = ([region_label(s["region"]), s["region"], category_label(r["category"]), r["category"], year,
             r["batches"], r["failed"], r["pass_rate"], r["ci_low"], r["ci_high"], r["floor"],
             verdict[r["meets_floor"]], r["last_pass_rate"],
             None if r["change"] is None else round(r["change"] * 100, 1) + 0.0]  # + 0.0: no -0.0
            for s in sections for r in s["rows"])
    return download([name for name, _f in columns], rows, "xlsx", f"attainment-{year}-{region}",
                    [number_format for _n, number_format in columns])
