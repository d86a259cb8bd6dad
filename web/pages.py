"""What every page blueprint shares: templates, HTML error pages, domain errors shown as pages."""
from __future__ import annotations

from typing import Any, Callable

from flask import Blueprint, render_template
from flask_babel import gettext as _
from sqlalchemy import select
from werkzeug.exceptions import HTTPException
from wtforms import FieldList

from core.auth.models import User, display_name
from core.errors import DomainError, PreconditionFailed
from core.extensions import db
from web.i18n import translate


def _error_page(status: int, message: str):
    return render_template("error.html", status=status, message=message), status


def _status_message(status: int) -> str:
    messages = {400: _("The form had expired or was incomplete; go back, reload the page and try again."),
                403: _("Your role does not allow this page."), 404: _("This page or record does not exist."),
                405: _("This action is not available here."),
                409: _("The change conflicts with a stored record; reload the page and try again."),
                412: _("The record was changed by someone else; reload it and try again."),
                413: _("The upload is too large."),
                422: _("The input contains a value that cannot be stored."),
                429: _("Too many attempts; wait a minute and try again."),
                500: _("Something went wrong on our side; it has been logged."),
                503: _("The database is unavailable; try again shortly.")}
    return messages.get(status, "")


def _http_error(error: HTTPException):
    return _error_page(error.code or 500, _status_message(error.code or 500) or error.description or "")


def _domain_error(error: DomainError):
    # A domain error a view did not turn into form messages (e.g. out of scope, not found).
    return _error_page(error.status, translate(error.message))


def error_page(error: Exception, status: int):
    """Any error outside /api as a page in the reader's language (registered with core.errors)."""
    # The page reads the session (the signed-in user, the menu): a failed statement must not
    # leave it unusable.
    db.session.rollback()
    if isinstance(error, DomainError):
        return _domain_error(error)
    if isinstance(error, HTTPException):
        return _http_error(error)
    return _error_page(status, _status_message(status))


def page_blueprint(name: str, import_name: str, url_prefix: str | None = None) -> Blueprint:
    """A blueprint of pages (their errors are pages: `error_page`, registered for every path
    outside /api)."""
    return Blueprint(name, import_name, url_prefix=url_prefix, template_folder="templates")


def form_errors(form, error: DomainError) -> list[str]:
    """Put a domain error's field messages next to the form's fields, in the page's language;
    return the rest."""
    rest = []
    for field, messages in (error.errors or {}).items():
        messages = [translate(m) for m in messages]
        target = getattr(form, field, None)
        if target is not None and not isinstance(target, FieldList) and hasattr(target, "errors"):
            target.errors = list(target.errors) + list(messages)
        else:
            rest.extend(messages)
    if not error.errors:
        rest.append(translate(error.message))
    return rest


def run_service(form, action: Callable[[], Any], stale: str | None = None) -> tuple[Any, list[str]]:
    """Call a service for a submitted form: (its result, []) or, on a domain error, rolled back,
    (None, messages not shown next to a field); `stale` words a version conflict for the page."""
    try:
        return action(), []
    except PreconditionFailed as error:
        db.session.rollback()
        return None, [stale] if stale else form_errors(form, error)
    except DomainError as error:
        db.session.rollback()
        return None, form_errors(form, error)


def usernames(ids) -> dict[int, str]:
    """Who is who in a history (revisions, alert events, the audit log): user id -> the full name
    with the username (the username alone when no name is kept), in one query."""
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {row.id: display_name(row.username, row.full_name) for row in db.session.execute(
        select(User.id, User.username, User.full_name).where(User.id.in_(wanted)))}
