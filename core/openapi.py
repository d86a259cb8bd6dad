"""What the OpenAPI document says beyond each view's decorators, so a client can be written from it.

An apispec plugin (added by `core.extensions.Api`) completes every operation from facts the app
already holds: the error responses it really answers with (401 always; 403 where a permission
is required; 404 where a record is named; 409 on writes; 412/428 where If-Match is read; 413 on
uploads), each in the one `Error` shape of core/errors.py; who may call it (the `require`
permission and its roles); and the meaning and an example of path ids and the common query
parameters where a view left them out. The document's `info.description` states the
conventions every operation shares.
"""
from __future__ import annotations

import re

from apispec import BasePlugin
from flask import Flask
from marshmallow import Schema, fields

from core.auth.permissions import GRANTS

JSON = "application/json"

CONVENTIONS = """\
Conventions every operation shares.

**Authentication.** Every operation needs `Authorization: Bearer <token>` (an administrator
issues tokens: `POST /api/users/{user_id}/tokens`). Without a valid token: 401.

**Roles and regions.** Each operation names the permission it requires and the roles that hold
it; any other role gets 403. Users see and change only their own region subtree (a county, a
city and its counties, or the province): a record outside it answers 404, as if absent, and a
list simply leaves it out; writing a record into a region outside it answers 403.

**Errors.** Every error is one JSON shape, `Error`: `{"code": 422, "status": "Unprocessable
Entity", "message": "...", "errors": {"items.0.verdict": ["..."]}}`. `errors` (present on input
errors) maps each field, as a dotted path for nested fields, to its messages. Unknown or
repeated query parameters and unknown body fields are refused with 422.

**Formats.** Dates are `YYYY-MM-DD` (local dates, Asia/Shanghai); months `YYYY-MM`; timestamps
ISO 8601 with their UTC offset; rates, floors and probabilities fractions in [0, 1]. Regions are
GB/T 2260 codes (`330106`); categories dotted codes (`food.dairy.liquid_milk`); a region or
category filter takes the whole subtree below the code. Names are snake_case.

**Pagination.** Lists answer a JSON array one page at a time, selected by `limit` and `offset`;
a page past the end is an empty array (no total is given: ask for the next page until one comes
back shorter than `limit`). `GET /api/batches` pages by cursor instead: it answers
`{"items": [...], "next_cursor": ...}`; pass `next_cursor` back as `cursor` until it is null.
`GET /api/audit` pages by `before_id` (the smallest id of the previous page).

**Optimistic locking of batches.** `GET`, `POST`, `PATCH` and void on a batch answer an
`ETag` header (the batch's version, e.g. `"3"`). `PATCH /api/batches/{batch_id}` requires it
back in `If-Match` (428 when absent, 412 when someone changed the batch since); voiding takes it
optionally.

**CSV.** Operations with a `format` parameter answer the same rows as a CSV download
(`text/csv`, UTF-8 with BOM) when `format=csv`.
"""


class ErrorSchema(Schema):
    """The one error shape of the API (core/errors.py)."""

    code = fields.Integer(required=True, metadata={"description": "The HTTP status code", "example": 422})
    status = fields.String(required=True, metadata={"description": "The HTTP status name",
                                                    "example": "Unprocessable Entity"})
    message = fields.String(required=True, metadata={
        "description": "What went wrong, for a person to read (show it; do not parse it)",
        "example": "invalid input: items.0.verdict: Must be one of: pass, fail."})
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()), metadata={
        "description": "Field -> its messages; nested fields as dotted paths (items.0.verdict); "
                       "`_schema` for the input as a whole. Present on input errors.",
        "example": {"items.0.verdict": ["Must be one of: pass, fail."]}})


ERRORS = {
    401: ("Unauthorized", "No bearer token, or an invalid, expired or revoked one (see WWW-Authenticate)."),
    403: ("Forbidden", "Your role lacks the permission this operation requires, or the change would "
                       "write a record into a region outside yours."),
    404: ("NotFound", "No such record, or it lies outside your region (the two are not told apart)."),
    409: ("Conflict", "The change conflicts with the record's state or with a stored record (e.g. a "
                      "duplicate, or an item already closed, decided or voided)."),
    412: ("PreconditionFailed", "If-Match does not name the batch's current version (it changed since "
                                "you read it): GET it again, and retry with the new ETag."),
    413: ("PayloadTooLarge", "The request body or the uploaded file is over the size limit."),
    422: ("InvalidInput", "Invalid input: `errors` names each refused field (or query parameter) and why."),
    428: ("PreconditionRequired", "If-Match is missing: send the batch's ETag, from GET or the last change."),
}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"description": "`Bearer`, with `error=\"invalid_token\"` "
                                                        "for a token that is not (or no longer) valid",
                                         "schema": {"type": "string"}}}

# Writes whose body names other records (by id), answered 404 when one is absent or out of region.
BODY_NAMES_RECORDS = {("post", "/api/cases"), ("patch", "/api/cases/{case_id}"), ("post", "/api/blacklist")}

# Path parameters: what each id names (an example of each exists in a seeded world).
PATH_PARAMETERS = {
    "user_id": ("The user's id", 1),
    "job_id": ("The job's id (from the 202 answer of an import)", 1),
    "batch_id": ("The batch's id", 1),
    "enterprise_id": ("The enterprise's id", 1),
    "alert_id": ("The alert's id", 1),
    "sub_id": ("The subscription's id", 1),
    "hook_id": ("The webhook's id", 1),
    "case_id": ("The case's id", 1),
    "retest_id": ("The retest's id", 1),
    "objection_id": ("The objection's id", 1),
    "category": ("A category code (dotted, e.g. food.dairy.liquid_milk)", "food.dairy.liquid_milk"),
    "region": ("A region code (GB/T 2260)", "330106"),
    "day": ("A date, YYYY-MM-DD", "2026-10-10"),
}
# Query parameters with one meaning wherever they appear, for views that did not describe them.
QUERY_PARAMETERS = {
    "limit": "The page size: at most this many rows",
    "offset": "Rows to skip before the page (0: the first page); past the end: an empty list",
    "cursor": "The `next_cursor` of the previous page; omit for the first page",
    "format": "json (the default) or csv: the same rows as a CSV download",
    "region": "Region subtree: a GB/T 2260 code and every region below it",
    "category": "Category subtree: a category code and every category below it",
    "enterprise_id": "Only those of this enterprise (its id)",
    "batch_id": "Only those of this batch (its id)",
    "alert_id": "Only those opened from this alert (its id)",
    "user_id": "Only those by this user (its id)",
    "entity_id": "Only those of the record with this id (with `entity`)",
    "from": "The first date, YYYY-MM-DD (inclusive)",
    "to": "The last date, YYYY-MM-DD (inclusive)",
}


def _error_component(spec, status: int) -> str:
    name, description = ERRORS[status]
    if name not in spec.components.responses:
        response = {"description": description, "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}}
        if status == 401:
            response["headers"] = WWW_AUTHENTICATE
        spec.components.response(name, response)
    return name


class ContractPlugin(BasePlugin):
    """Completes each operation's documentation from the app's routes and permissions."""

    def __init__(self, app: Flask):
        self.app = app
        self.spec = None

    def init_spec(self, spec) -> None:
        self.spec = spec
        spec.options.setdefault("info", {}).setdefault("description", CONVENTIONS)

    def path_helper(self, path=None, operations=None, parameters=None, rule=None, **kwargs):
        for parameter in parameters or ():
            if parameter.get("in") == "path" and parameter.get("name") in PATH_PARAMETERS:
                description, example = PATH_PARAMETERS[parameter["name"]]
                parameter.setdefault("description", description)
                parameter.setdefault("example", example)
        self._rule = rule
        return None

    def operation_helper(self, path=None, operations=None, **kwargs):
        rule = self._rule
        view_class = getattr(self.app.view_functions.get(rule.endpoint), "view_class", None) if rule else None
        has_path_ids = bool(re.search(r"\{\w+\}", path or ""))
        for method, operation in (operations or {}).items():
            handler = getattr(view_class, method, None)
            permission = getattr(handler, "permission", None)
            self._describe(operation, permission)
            for parameter in operation.get("parameters", ()):
                if parameter.get("in") == "query" and not parameter.get("description"):
                    if parameter.get("name") in QUERY_PARAMETERS:
                        parameter["description"] = QUERY_PARAMETERS[parameter["name"]]
            statuses = {401}
            if permission is not None:
                statuses.add(403)
            if has_path_ids or (method, path) in BODY_NAMES_RECORDS:
                statuses.add(404)
            if method in ("post", "put", "patch", "delete"):
                statuses.add(409)
            if_match = [p for p in operation.get("parameters", ()) if p.get("in") == "header"
                        and p.get("name", "").lower() == "if-match"]
            if if_match:
                statuses.add(412)
                if any(p.get("required") for p in if_match):
                    statuses.add(428)
            if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
                statuses.add(413)
            responses = operation.setdefault("responses", {})
            if "422" in responses or 422 in responses:
                responses.pop(422, None)
                statuses.add(422)
            for status in sorted(statuses):
                responses[str(status)] = _error_component(self.spec, status)

    @staticmethod
    def _describe(operation: dict, permission: str | None) -> None:
        if permission is None:
            who = "Any signed-in user (for their own records)."
        else:
            roles = ", ".join(sorted(GRANTS[permission]))
            who = f"Requires the `{permission}` permission (roles: {roles})."
            if permission != "administer":
                who += " Limited to your region subtree."
        description = operation.get("description")
        operation["description"] = f"{description}\n\n{who}" if description else who
