"""Version-based ETags: `ETag: "<version>"` out, `If-Match` in (optimistic locking)."""
from __future__ import annotations

from flask import request

from core.errors import PreconditionFailed, PreconditionRequired


def etag_for(version: int) -> str:
    return f'"{version}"'


def expected_version(required: bool = True) -> int | None:
    """The version named by If-Match; 428 when required and absent, 412 when unreadable."""
    header = request.headers.get("If-Match")
    if not header:
        if required:
            raise PreconditionRequired("send the batch's ETag in an If-Match header")
        return None
    value = header.strip()
    if value.startswith("W/"):
        value = value[2:]
    value = value.strip('"')
    if not value.isdigit() or len(value) > 9:
        raise PreconditionFailed("If-Match does not name a version this API issued")
    return int(value)
