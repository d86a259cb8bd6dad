"""Who may do what, and where: the role table and regional scope, in one place.

| permission      | roles                              | scoped to the user's region subtree |
|-----------------|------------------------------------|-------------------------------------|
| read            | inspector, supervisor, agency, admin | yes                               |
| record          | inspector, admin                   | yes (create, amend, void, import)   |
| triage          | supervisor, admin                  | yes (alert actions, subscriptions)  |
| followup_read   | supervisor, agency, admin          | yes                                 |
| followup_write  | agency, admin                      | yes                                 |
| administer      | admin                              | - (users, reference data, floors, audit log) |

A county user's subtree is the county, a city user's the city and its counties, a provincial
user's (330000) everything; administrators see everything. Out of scope is 404 for one record
and an empty result for lists, so a record's existence does not leak.
"""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import g

from core.errors import DomainError
from core.messages import N_

PROVINCE = "330000"

GRANTS: dict[str, frozenset[str]] = {
    "read": frozenset({"inspector", "supervisor", "agency", "admin"}),
    "record": frozenset({"inspector", "admin"}),
    "triage": frozenset({"supervisor", "admin"}),
    "followup_read": frozenset({"supervisor", "agency", "admin"}),
    "followup_write": frozenset({"agency", "admin"}),
    "administer": frozenset({"admin"}),
}


class Forbidden(DomainError):
    status = 403


OUTSIDE_REGION = N_("region %(region)s is outside your region %(scope)s")
OUTSIDE_SCOPE = N_("outside your region %(scope)s")


def outside_region(region: str, scope: str | None) -> Forbidden:
    """The refusal of a write to `region` by a user limited to `scope`."""
    return Forbidden(OUTSIDE_REGION(region=region, scope=scope), {"region": [OUTSIDE_SCOPE(scope=scope)]})


def may(user, permission: str) -> bool:
    return user is not None and bool(user.roles & GRANTS[permission])


def scope_of(user) -> str | None:
    """The region subtree the user is limited to; None means everything."""
    if "admin" in user.roles or user.region_code == PROVINCE:
        return None
    return user.region_code


def require(permission: str) -> Callable:
    """Refuse (403) a view to users whose roles lack `permission`, before reading input."""
    if permission not in GRANTS:
        raise ValueError(f"unknown permission {permission}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def guarded(*args, **kwargs):
            if not may(g.get("user"), permission):
                raise Forbidden(f"your role does not allow this ({permission})")
            return view(*args, **kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]  # read by the role-matrix test
        return guarded

    return decorate
