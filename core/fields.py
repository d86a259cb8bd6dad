"""marshmallow fields the API packages share."""
from __future__ import annotations

from marshmallow import fields


class JsonBoolean(fields.Boolean):
    """JSON true or false, nothing else: marshmallow's Boolean also takes 0, 1 and "yes", and
    0 == False in Python, so a truthy set could not tell them apart."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value
