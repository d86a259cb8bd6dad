"""Fields and argument schemas the follow-up schemas share."""
from __future__ import annotations

from marshmallow import Schema, ValidationError, fields, validate

MAX_ID = 2_147_483_647
Text = lambda n, **kw: fields.String(validate=validate.Length(max=n), **kw)  # noqa: E731
Required = lambda n, **kw: fields.String(required=True, validate=validate.Length(min=1, max=n), **kw)  # noqa: E731
Id = lambda **kw: fields.Integer(validate=validate.Range(1, MAX_ID), **kw)  # noqa: E731


def plannable_month(text: str) -> None:
    if text[:4].isdigit() and not 1900 <= int(text[:4]) <= 2999:
        raise ValidationError("must be a month between 1900-01 and 2999-12")


class PageArgs(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500), metadata={"example": 100})
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_ID), metadata={"example": 0})


class CsvPageArgs(PageArgs):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"example": "json"})
