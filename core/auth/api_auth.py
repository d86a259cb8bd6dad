"""Bearer-token authentication for every /api route but the OpenAPI document and its docs."""
from __future__ import annotations

from flask import Flask, g, request

from core.auth.services import user_for_token
from core.errors import error_response
from core.extensions import db

PUBLIC_PREFIXES = ("/api/openapi.json", "/api/docs")


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
        user = user_for_token(db.session, token.strip())
        if user is None:
            return error_response(401, "invalid, expired or revoked token",
                                  headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})
        g.user = user
        return None
