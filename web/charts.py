"""plotly.js, served from the pinned `plotly` wheel (no CDN: the servers have no internet)."""
from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from flask import Response, request, send_file

from core.security import CSP

# plotly.js 4.1.1 (plotly==7.1.0) adds two <style> elements when it draws: an empty one it then
# fills through CSSOM, and MapLibre's fixed stylesheet. Their hashes let exactly these through a
# CSP that still refuses every other inline style; the browser tests fail if they change.
PLOTLY_STYLE_HASHES = ("'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='",
                       "'sha256-ji27qzEtxXZW+7dun6UwjHXJ18e6WAin1VvNtkzIE/o='")
CHART_CSP = CSP.replace("style-src 'self'", "style-src 'self' " + " ".join(PLOTLY_STYLE_HASHES))


def _plotly_path() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@cache
def _plotly_gzipped() -> tuple[bytes, str]:
    # 4.8 MB as it is, 1.4 MB compressed: over a county office's line that is seconds on the first
    # chart. Compressed once a process (about 0.3 s), not on every request.
    import plotly

    return gzip.compress(_plotly_path().read_bytes(), 6), f"plotly-{plotly.__version__}-gzip"


def plotly_js():
    if "gzip" not in request.accept_encodings:
        return send_file(_plotly_path(), mimetype="text/javascript", max_age=86400)
    body, etag = _plotly_gzipped()
    response = Response(body, mimetype="text/javascript", headers={"Content-Encoding": "gzip"})
    response.vary.add("Accept-Encoding")
    response.cache_control.public, response.cache_control.max_age = True, 86400
    response.set_etag(etag)
    return response.make_conditional(request)


def with_chart_csp(response: Response) -> Response:
    """Let a page that draws a plotly chart apply plotly's own two style elements."""
    response.headers["Content-Security-Policy"] = CHART_CSP
    return response
