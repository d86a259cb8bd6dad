"""The landing page's "needs attention": what each role should look at first, counted within the
user's region, each linking to the page that lists it."""
from __future__ import annotations

from dataclasses import dataclass

from flask import url_for

from core.clock import local_today, month_of, shift_month
from core.extensions import db
from followup.services.cases import count_overdue_unfinished
from followup.services.disposals import pressing
from inspection.services.stats import month_totals
from warning.alerts import active_by_level, latest_scan
from web.access import can


@dataclass
class Attention:
    this_month: str
    last_month: str
    month_figures: dict          # month -> (batches, failed)
    alerts: dict | None = None   # level -> active alerts
    scan: object | None = None   # the latest scan that kept the alerts
    disposals: dict | None = None  # overdue / due -> failed batches
    cases_overdue: int | None = None
    links: dict | None = None


def attention(scope: str | None) -> Attention:
    """What needs attention in the region subtree `scope` (None: the province), for the signed-in
    user's permissions."""
    this_month = month_of(local_today())
    last_month = shift_month(this_month, -1)
    out = Attention(this_month, last_month,
                    {m: month_totals(db.session, scope, m) for m in (this_month, last_month)},
                    links={"batches": url_for("batch_pages.index"),
                           "alerts": url_for("supervision.alerts", sort="-severity")})
    if can("read"):
        out.alerts = active_by_level(db.session, scope)
        out.scan = latest_scan(db.session)
    if can("followup_read"):
        out.disposals = pressing(db.session, scope)
        out.cases_overdue = count_overdue_unfinished(db.session, scope)
        out.links.update(overdue=url_for("followup_pages.disposals_index", state="overdue"),
                         due=url_for("followup_pages.disposals_index", state="due"),
                         cases=url_for("followup_pages.cases_index", overdue="yes"))
    return out
