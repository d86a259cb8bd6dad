"""The audit log as an administrator reads it: names for the codes the trail stores, a link to
each record's page, and a change as the fields that changed.

The trail itself keeps codes (`amend`, `batch`) and raw before/after values, stable whatever the
reader's language; only this page turns them into words.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l

ACTIONS = {
    "create": _l("created"), "amend": _l("amended"), "void": _l("voided"), "import": _l("imported a file"),
    "update": _l("changed"), "deactivate": _l("deactivated"), "login": _l("signed in"),
    "login_failed": _l("failed sign-in"), "logout": _l("signed out"), "change_password": _l("changed password"),
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


def shown(value: Any) -> str:
    """A stored value as text: nothing as a dash, lists and mappings as compact JSON."""
    if value is None:
        return "–"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)
