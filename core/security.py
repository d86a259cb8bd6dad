"""Security headers on every response."""
from __future__ import annotations

from flask import Flask, request

# Scripts and styles only from this origin: no inline script anywhere (docs page included).
CSP = ("default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
       "font-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'")


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        response.headers.setdefault("Content-Security-Policy", CSP)
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["Referrer-Policy"] = "same-origin"
        if request.is_secure:
            response.headers["Strict-Transport-Security"] = "max-age=31536000; includeSubDomains"
        # Pages and answers hold enforcement records: a shared office computer's browser must not
        # keep them for the next person (its back button after sign-out, its disk cache). Static
        # files say their own caching (Flask's send_file, the chart library).
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
