"""The header's menu: one table of (section, entries), each entry shown only to roles allowed it.

Pages of later rounds add their entries here: agency (follow-up) pages, supervisors' alert
subscriptions, administrators' holiday calendar and webhooks. An entry whose endpoint is
not registered yet is left out, so a slot can be reserved before its page exists. (Page
blueprints need names of their own: "followup" is already the follow-up API's blueprint.)
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l

from web.access import can


@dataclass(frozen=True)
class Entry:
    endpoint: str
    label: object  # a lazy translated string
    permission: str


NAV: list[tuple[object, list[Entry]]] = [
    (_l("Inspection"), [
        Entry("batch_pages.index", _l("Batches"), "read"),
        Entry("batch_pages.new", _l("Record a batch"), "record"),
        Entry("batch_pages.upload", _l("Import a file"), "record"),
    ]),
    (_l("Supervision"), [
        Entry("supervision.dashboard", _l("Dashboard"), "read"),
        Entry("supervision.alerts", _l("Alerts"), "read"),
        Entry("subscription_pages.index", _l("My alert subscriptions"), "triage"),
    ]),
    (_l("Follow-up"), [
        Entry("followup_pages.disposals_index", _l("Disposal of failed batches"), "followup_read"),
        Entry("followup_pages.cases_index", _l("Cases"), "followup_read"),
        Entry("followup_pages.blacklist_index", _l("Blacklist"), "followup_read"),
        Entry("followup_pages.plan", _l("Sampling plan"), "followup_read"),
    ]),
    (_l("Reports"), [
        Entry("reports.attainment", _l("Annual target attainment"), "read"),
    ]),
    (_l("Administration"), [
        Entry("admin.users", _l("Users and roles"), "administer"),
        Entry("admin.floors", _l("Category floors"), "administer"),
        Entry("admin.holidays", _l("Holiday calendar"), "administer"),
        Entry("admin.webhooks", _l("Webhooks"), "administer"),
        Entry("admin.audit", _l("Audit log"), "administer"),
    ]),
]


def menu() -> list[tuple[object, list[tuple[str, object]]]]:
    """The sections and (url, label) entries the signed-in user may open."""
    endpoints = set(current_app.view_functions)
    out = []
    for title, entries in NAV:
        shown = [(url_for(e.endpoint), e.label) for e in entries if e.endpoint in endpoints and can(e.permission)]
        if shown:
            out.append((title, shown))
    return out
