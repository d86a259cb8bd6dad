"""plotly.js, served from the pinned `plotly` wheel (no CDN: the servers have no internet)."""
from __future__ import annotations

import gzip
from functools import cache
from pathlib import Path

from flask import Response, request, send_file
from flask_babel import lazy_gettext as _l

from core.security import CSP
from web.i18n import is_english

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
def plotly_gzipped() -> tuple[bytes, str]:
    # 4.8 MB as it is, 1.4 MB compressed: over a county office's line that is seconds on the first
    # chart. Compressed once a process (about 0.3 s), not on every request.
    import plotly

    return gzip.compress(_plotly_path().read_bytes(), 6), f"plotly-{plotly.__version__}-gzip"


def plotly_js():
    if "gzip" not in request.accept_encodings:
        return send_file(_plotly_path(), mimetype="text/javascript", max_age=86400)
    body, etag = plotly_gzipped()
    response = Response(body, mimetype="text/javascript", headers={"Content-Encoding": "gzip"})
    response.vary.add("Accept-Encoding")
    response.cache_control.public, response.cache_control.max_age = True, 86400
    response.set_etag(etag)
    return response.make_conditional(request)


# The words plotly writes in its toolbar and notices (its own English texts are the keys), for
# the buttons a line chart keeps: a Chinese page would otherwise show "Download plot as a PNG".
PLOTLY_WORDS = {
    "Download plot as a PNG": _l("Download the chart as PNG"), "Download plot": _l("Download the chart"),
    "Zoom": _l("Zoom"), "Pan": _l("Pan"), "Zoom in": _l("Zoom in"), "Zoom out": _l("Zoom out"),
    "Autoscale": _l("Autoscale"), "Reset axes": _l("Reset axes"),
    "Double-click to zoom back out": _l("Double-click to zoom back out"),
    "Preparing image - this may take a few seconds": _l("Preparing the image; this may take a few seconds"),
    "Image download succeeded": _l("Image downloaded"),
    "Sorry, there was a problem downloading your image!": _l("The image could not be downloaded."),
}


def plotly_locale() -> dict | None:
    """plotly's locale module for the page's language (None: plotly's own English)."""
    if is_english():
        return None
    return {"name": "zh-CN", "dictionary": {key: str(words) for key, words in PLOTLY_WORDS.items()}}


def with_chart_csp(response: Response) -> Response:
    """Let a page that draws a plotly chart apply plotly's own two style elements."""
    response.headers["Content-Security-Policy"] = CHART_CSP
    return response
