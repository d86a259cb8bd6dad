"""The interactive API docs page, with Swagger UI served from the installed package."""
from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from flask import Blueprint, Response, send_from_directory

bp = Blueprint("docs", __name__)
STATIC = Path(__file__).parent / "static"

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>API documentation</title>
<link rel="stylesheet" href="/api/docs/static/swagger-ui.css"></head>
<body><div id="swagger-ui"></div>
<script src="/api/docs/static/swagger-ui-bundle.js"></script>
<script src="/api/docs/init.js"></script></body></html>"""


@bp.get("/api/docs")
def docs():
    """The Swagger UI page for /api/openapi.json."""
    return Response(PAGE, mimetype="text/html")


@bp.get("/api/docs/init.js")
def docs_init():
    return send_from_directory(STATIC, "docs-init.js", mimetype="text/javascript")


@bp.get("/api/docs/static/<path:filename>")
def docs_static(filename: str):
    """Swagger UI assets, served locally (no CDN on a regulator's network)."""
    return send_from_directory(swagger_ui_bundle.swagger_ui_path, filename)
