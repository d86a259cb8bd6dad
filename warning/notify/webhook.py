"""The webhook notice: a JSON POST signed with HMAC-SHA256 over the timestamp and the raw body.

Headers: `X-Timestamp` (Unix seconds), `X-Signature: sha256=<hex of HMAC(secret, "<timestamp>." +
body)>`, `X-Delivery-Id` (the outbox row, the same on every retry). A receiver recomputes the
signature and refuses a timestamp more than a few minutes old, so a captured request cannot be
replayed later; a repeated delivery id is a retry it may ignore.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.request
from datetime import datetime, timezone
from urllib.error import HTTPError

from warning.notify.words import SCHEMA_VERSION, level_zh


def signature(secret: str, timestamp: str, body: bytes) -> str:
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def body_of(payload: dict, outbox_id: int, base_url: str, created_at: datetime | None = None) -> bytes:
    """The JSON the receiver gets (README, "Alerts and notifications": version 1); the same bytes
    on every retry of one row (only the signed timestamp in the headers is fresh)."""
    alerts = [{**item, "level_name": level_zh(item["level"]), "url": base_url.rstrip("/") + item["path"]}
              for item in payload["alerts"]]
    body = {**payload, "version": SCHEMA_VERSION,
            "type": "escalation" if payload.get("escalated_by") else "scan",
            "delivery_id": str(outbox_id), "level_name": level_zh(payload["level"]),
            "created_at": created_at.astimezone(timezone.utc).isoformat() if created_at else None,
            "alerts": alerts}
    return json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a redirect is a failure, not a new target
        return None


def post(url: str, secret: str, body: bytes, outbox_id: int, timeout: float) -> int:
    """POST the body; return the status, raising unless the receiver answered 2xx."""
    timestamp = str(int(time.time()))
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json; charset=utf-8", "User-Agent": "inspection-warning/1",
        "X-Timestamp": timestamp, "X-Signature": signature(secret, timestamp, body),
        "X-Delivery-Id": str(outbox_id)})
    try:
        with urllib.request.build_opener(_NoRedirect).open(request, timeout=timeout) as response:
            return response.status
    except HTTPError as exc:
        raise RuntimeError(f"webhook answered {exc.code} {exc.reason}") from None
