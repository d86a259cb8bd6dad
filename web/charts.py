"""plotly.js, served from the pinned `plotly` wheel (no CDN: the servers have no internet)."""
from __future__ import annotations

from pathlib import Path

from flask import Response, send_file

from core.security import CSP

# plotly.js 4.1.1 (plotly==7.1.0) adds two <style> elements when it draws: an empty one it then
# fills through CSSOM, and MapLibre's fixed stylesheet. Their hashes let exactly these through a
# CSP that still refuses every other inline style; the browser tests fail if they change.
PLOTLY_STYLE_HASHES = ("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
                       "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='")
CHART_CSP = CSP.replace("style-src 'self'", "style-src 'self' " + " ".join(PLOTLY_STYLE_HASHES))


def plotly_js():
    import plotly

    return send_file(Path(plotly.__file__).parent / "package_data" / "plotly.min.js",
                     mimetype="text/javascript", max_age=86400)


def with_chart_csp(response: Response) -> Response:
    """Let a page that draws a plotly chart apply plotly's own two style elements."""
    response.headers["Content-Security-Policy"] = CHART_CSP
    return response
