"""The role table on pages: the same permissions and regional scope as the API."""
from __future__ import annotations

from functools import wraps
from typing import Callable

from flask import abort, g
from flask_login import current_user, login_required

from core.auth.permissions import GRANTS, may, scope_of


def page_requires(permission: str) -> Callable:
    """Send anonymous visitors to sign in and refuse (403) roles without `permission`."""
    if permission not in GRANTS:
        raise ValueError(f"unknown permission {permission}")

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        @login_required
        def guarded(*args, **kwargs):
            user = current_user._get_current_object()
            if not may(user, permission):
                abort(403)
            g.user = user
            return view(*args, **kwargs)

        guarded.permission = permission  # type: ignore[attr-defined]
        return guarded

    return decorate


def user_scope() -> str | None:
    """The signed-in user's region subtree (None: everywhere)."""
    return scope_of(g.user)


def can(permission: str) -> bool:
    """For templates: whether the signed-in user holds `permission` (navigation, buttons)."""
    return current_user.is_authenticated and may(current_user, permission)
