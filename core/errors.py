"""Domain errors and the one JSON error shape of the whole app.

Every API error response is `{"code": <http status>, "status": <name>, "message": str,
"errors": {field: [messages]}}`; nested field errors are flattened to dotted paths
(`items.0.verdict`) so a client can show each message next to its field. Outside /api a
browser is reading: the page layer may register an error page for those paths
(`use_error_pages`), which core calls without knowing it.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from flask import Flask, current_app, jsonify, make_response, request
from sqlalchemy.exc import DataError, IntegrityError, OperationalError
from sqlalchemy.orm.exc import StaleDataError
from werkzeug.exceptions import HTTPException

log = logging.getLogger(__name__)


class DomainError(Exception):
    """A use case refused its input; `status` is the HTTP status the API answers with."""

    status = 400

    def __init__(self, message: str, errors: dict[str, list[str]] | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class ValidationFailed(DomainError):
    status = 422

    @classmethod
    def on(cls, field: str, message: str) -> "ValidationFailed":
        return cls(message, {field: [message]})


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class PreconditionFailed(DomainError):
    status = 412


class PreconditionRequired(DomainError):
    status = 428


class PayloadTooLarge(DomainError):
    status = 413


_NAMES = {
    400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found",
    405: "Method Not Allowed", 409: "Conflict", 412: "Precondition Failed",
    413: "Payload Too Large", 415: "Unsupported Media Type", 422: "Unprocessable Entity",
    428: "Precondition Required", 500: "Internal Server Error", 503: "Service Unavailable",
}


def flatten_errors(messages: Any, prefix: str = "") -> dict[str, list[str]]:
    """Turn webargs/marshmallow nested messages into `{dotted.field: [str]}`."""
    out: dict[str, list[str]] = {}
    if isinstance(messages, dict):
        for key, value in messages.items():
            path = f"{prefix}.{key}" if prefix else str(key)
            for k, v in flatten_errors(value, path).items():
                out.setdefault(k, []).extend(v)
    elif isinstance(messages, (list, tuple)):
        if all(isinstance(m, str) for m in messages):
            out[prefix or "_schema"] = list(messages)
        else:
            for i, m in enumerate(messages):
                for k, v in flatten_errors(m, f"{prefix}.{i}" if prefix else str(i)).items():
                    out.setdefault(k, []).extend(v)
    else:
        out[prefix or "_schema"] = [str(messages)]
    return out


def _strip_location(messages: dict) -> dict:
    # webargs keys errors by location ("json", "query", "files"); clients want field names.
    merged: dict = {}
    for location, fields in messages.items():
        if isinstance(fields, dict):
            merged.update(fields)
        else:
            merged[location] = fields
    return merged


def error_response(status: int, message: str, errors: dict | None = None, headers=None):
    body = {"code": status, "status": _NAMES.get(status, "Error"), "message": message}
    if errors:
        body["errors"] = errors
    response = jsonify(body)
    response.status_code = status
    if headers:
        response.headers.update(headers)
    return response


def is_api_request() -> bool:
    """Whether the request is for the JSON API (whose errors always keep the JSON shape)."""
    return request.path == "/api" or request.path.startswith("/api/")


ErrorPage = Callable[[Exception, int], Any]


def use_error_pages(app: Flask, render: ErrorPage) -> None:
    """Answer errors outside /api with `render(error, status)`, a page, instead of JSON."""
    app.extensions["error_page"] = render


def _answer(error: Exception, status: int, message: str, errors: dict | None = None, headers=None):
    render = current_app.extensions.get("error_page")
    if render is not None and not is_api_request():
        try:
            response = make_response(render(error, status))
        except Exception:  # noqa: BLE001 - e.g. the database is down and the page reads it
            log.exception("error page failed; answering JSON")
        else:
            response.status_code = status
            response.headers.update(headers or {})
            return response
    return error_response(status, message, errors, headers)


def handle_http_exception(error: HTTPException):
    data = getattr(error, "data", None) or {}
    errors = data.get("errors") or data.get("messages")
    if isinstance(errors, dict):
        errors = flatten_errors(_strip_location(errors))
    message = data.get("message")
    if not message:
        if error.code == 422 and errors:
            first = next(iter(errors))
            message = f"invalid input: {first}: {errors[first][0]}"
        else:
            message = error.description or _NAMES.get(error.code or 500, "Error")
    # Keep the exception's own headers (405's Allow, required by RFC 9110; 401's WWW-Authenticate),
    # but not its HTML Content-Type: the body is JSON.
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    return _answer(error, error.code or 500, message, errors, headers)


def register_error_handlers(app: Flask) -> None:
    """Map every failure to the one JSON shape (or a registered page outside /api); never send a
    stack trace to a client."""

    @app.errorhandler(DomainError)
    def _domain(error: DomainError):
        return _answer(error, error.status, error.message, error.errors)

    @app.errorhandler(StaleDataError)
    def _stale(error):
        return _answer(error, 412, "the record was changed by someone else; reload it and retry")

    @app.errorhandler(IntegrityError)
    def _integrity(error):
        log.warning("integrity error: %s", error.orig)
        return _answer(error, 409, "the change conflicts with a stored record")

    @app.errorhandler(DataError)
    def _data(error):
        # Input the database refuses to store or compare, e.g. a NUL character in text on
        # PostgreSQL (SQLite takes it), or a value beyond a column's range.
        log.warning("data error: %s", error.orig)
        return _answer(error, 422, "the input contains a value the database cannot store "
                                   "(e.g. a NUL character or a number out of range)")

    @app.errorhandler(OperationalError)
    def _db_down(error):
        log.error("database unavailable: %s", error.orig)
        return _answer(error, 503, "the database is unavailable; try again shortly")

    @app.errorhandler(HTTPException)
    def _http(error):
        return handle_http_exception(error)

    @app.errorhandler(Exception)
    def _unexpected(error):
        log.exception("unhandled error")
        return _answer(error, 500, "internal error; it has been logged")
