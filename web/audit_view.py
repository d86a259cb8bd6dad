"""The audit log as an administrator reads it: names for the codes the trail stores, a link to
each record's page, and a change as the fields that changed.

The trail itself keeps codes (`amend`, `batch`) and raw before/after values, stable whatever the
reader's language; only this page turns them into words.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

from web import category_label, region_label, role_labels
from web.followup import CASE_KINDS, CASE_STATUSES, RULES
from web.followup_forms import SEVERITY_LABELS
from web.i18n import translate, when
from web.supervision import LEVEL_LABELS, STATUSES

ACTIONS = {
    "create": _l("created"), "amend": _l("amended"), "void": _l("voided"), "import": _l("imported a file"),
    "update": _l("changed"), "deactivate": _l("deactivated"), "login": _l("signed in"),
    "login_failed": _l("failed sign-in"), "logout": _l("signed out"), "change_password": _l("changed password"),
    "reset_password": _l("reset the password"),
    "issue_token": _l("issued an API token"), "revoke_tokens": _l("revoked API tokens"),
    "acknowledge": _l("acknowledged"), "escalate": _l("escalated"), "dismiss": _l("dismissed"),
    "record": _l("recorded disposal steps"), "close": _l("closed"), "apply": _l("applied for a retest"),
    "conclude": _l("concluded"), "raise": _l("raised an objection"), "decide": _l("decided"),
    "open": _l("opened"), "transition": _l("changed status"), "action": _l("recorded an action"),
    "blacklist_add": _l("added to the blacklist"), "blacklist_remove": _l("removed from the blacklist"),
    "set": _l("set"), "rotate_key": _l("rotated the key"),
}

# record type -> its label, and the page showing one record (endpoint, the id's argument)
ENTITIES: dict[str, tuple[Any, tuple[str, str] | None]] = {
    "batch": (_l("batch"), ("batch_pages.show", "batch_id")),
    "enterprise": (_l("enterprise"), ("followup_pages.enterprise", "enterprise_id")),
    "case": (_l("case"), ("followup_pages.case", "case_id")),
    "disposal": (_l("disposal"), ("followup_pages.disposal", "batch_id")),  # kept under the batch's id
    "alert": (_l("alert"), ("supervision.alert", "alert_id")),
    "user": (_l("user"), ("admin.user", "user_id")),
    "retest": (_l("retest"), None), "objection": (_l("objection"), None),
    "import_run": (_l("import"), None), "subscription": (_l("alert subscription"), None),
    "webhook": (_l("webhook"), None), "floor": (_l("category floor"), None),
    "calendar_day": (_l("calendar day"), None),
}


# A stored field's name as the pages call it (the code stays in the cell's title); a field not
# named here shows its code.
FIELDS = {
    "sample_no": _l("Sample number"), "sampled_on": _l("Sampling date"), "reported_on": _l("Report date"),
    "category": _l("Product category"), "category_code": _l("Product category"), "region": _l("Region"),
    "region_code": _l("Region"), "enterprise_credit_code": _l("Producer's unified social credit code"),
    "credit_code": _l("Unified social credit code"), "enterprise_name": _l("Producer's name"),
    "producer_name": _l("Producer's name"), "name": _l("Name"), "product": _l("Product"), "brand": _l("Brand"),
    "specification": _l("Specification"), "lot": _l("Lot"), "production_date": _l("Production date"),
    "stage": _l("Stage"), "sampling_agency": _l("Sampling agency"), "laboratory": _l("Laboratory"),
    "report_no": _l("Report number"), "conclusion": _l("Conclusion"), "fail_reason": _l("Reason for failing"),
    "items": _l("Test items"), "version": _l("Version"), "voided": _l("Voided"), "reason": _l("Reason"),
    "username": _l("Username"), "full_name": _l("Full name"), "roles": _l("Roles"), "active": _l("Active"), "status": _l("Status"),
    "level": _l("Level"), "note": _l("Note"), "dismissed_until": _l("Dismissed until"),
    "blacklisted": _l("Blacklisted"), "rule": _l("Rule"), "title": _l("Title"), "kind": _l("Kind"),
    "quantity_concerned": _l("Quantity concerned"), "quantity_recovered": _l("Quantity recovered"),
    "unit": _l("Unit"), "distribution": _l("Regions reached"), "recovered_disposal": _l("Disposal of the recovered goods"),
    "outcome": _l("Outcome"), "cancel_reason": _l("Reason for cancelling"), "severity": _l("Severity"),
    "cause": _l("Cause"), "measures": _l("Measures"), "floor": _l("Floor"), "effective_from": _l("In force from"),
}
# Stored codes shown as the pages' words, by field.
WORDS: dict[str, dict] = {
    "status": {**CASE_STATUSES, **STATUSES}, "level": {**LEVEL_LABELS, "I": "I", "II": "II", "III": "III"},
    "severity": SEVERITY_LABELS, "rule": RULES, "kind": CASE_KINDS,
    "conclusion": {"pass": _l("Pass"), "fail": _l("Fail")},
}
_TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@dataclass(frozen=True)
class Change:
    field: str
    before: Any
    after: Any


def action_label(code: str):
    return ACTIONS.get(code, code)


def entity_label(code: str):
    return ENTITIES.get(code, (code, None))[0]


def record_url(entity: str, entity_id: str | None) -> str | None:
    page = ENTITIES.get(entity, (None, None))[1]
    if page is None or not (entity_id or "").isdigit():
        return None
    endpoint, argument = page
    return url_for(endpoint, **{argument: int(entity_id)})


def changes(before: dict | None, after: dict | None) -> list[Change]:
    """The fields whose value differs (every field of a record created or removed), in order."""
    before, after = before or {}, after or {}
    return [Change(key, before.get(key), after.get(key)) for key in dict.fromkeys([*before, *after])
            if before.get(key) != after.get(key)]


def field_label(field: str) -> str:
    return str(FIELDS.get(field, field))


def shown(value: Any, field: str = "") -> str:
    """A stored value as the pages write it: names for region, category and role codes, words
    for statuses and levels, yes or no, times in the page's time zone, a declared message in
    the reader's language; other lists and mappings as compact JSON."""
    if value is None:
        return "–"
    if isinstance(value, bool):
        return str(_l("Yes") if value else _l("No"))
    if field in ("region", "region_code") and isinstance(value, str):
        return region_label(value)
    if field in ("category", "category_code") and isinstance(value, str):
        return category_label(value)
    if field == "roles" and isinstance(value, list):
        return role_labels(value)
    if field == "distribution" and isinstance(value, list):
        return "、".join(region_label(code) for code in value)
    if field in WORDS and isinstance(value, str):
        return str(WORDS[field].get(value, value))
    if isinstance(value, str) and _TIMESTAMP.match(value):
        try:
            return when(datetime.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, str) and _DAY.match(value):
        try:
            return when(date.fromisoformat(value))
        except ValueError:
            return value
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    if field == "reason" and isinstance(value, str):
        return translate(value)  # a blacklist rule's reason is stored in English: the reader's language
    return str(value)
