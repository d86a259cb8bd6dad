"""Bearer-token authentication for every /api route but the OpenAPI document and its docs."""
from __future__ import annotations

from flask import Flask, g, request

from core.auth.services import TOKEN_OWNER, principal_of, token_digest
from core.database import READ_ONLY
from core.errors import error_response
from core.extensions import db
from core.reference.trees import FINGERPRINT_COLUMNS, note_fingerprint

PUBLIC_PREFIXES = ("/api/openapi.json", "/api/docs")
# The caller and the reference tables' fingerprint (which every use case reading the trees
# checks) in one statement: the first round trip of every API request is the only one most
# reads need besides their own query.
PREAMBLE = TOKEN_OWNER.add_columns(*FINGERPRINT_COLUMNS)


def current_user():
    return g.get("user")


def register_api_auth(app: Flask) -> None:
    @app.before_request
    def _authenticate():
        path = request.path
        if not path.startswith("/api/") and path != "/api" or path.startswith(PUBLIC_PREFIXES):
            return None
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return error_response(401, "missing bearer token: send 'Authorization: Bearer <token>'",
                                  headers={"WWW-Authenticate": "Bearer"})
        conn = db.session.connection(execution_options=READ_ONLY if request.method in ("GET", "HEAD") else None)
        rows = conn.execute(PREAMBLE, {"digest": token_digest(token.strip())}).all()
        user = principal_of(rows)
        if user is None:
            return error_response(401, "invalid, expired or revoked token",
                                  headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        note_fingerprint(db.session, rows[0][-len(FINGERPRINT_COLUMNS):])
        g.user = user
        return None
