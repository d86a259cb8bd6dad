"""Follow-up API: one blueprint; its routes are grouped in the modules imported below."""
from __future__ import annotations

from core.extensions import Blueprint

blp = Blueprint("followup", __name__, url_prefix="/api",
                description="Follow-ups: disposals, retests, objections, cases, credit, blacklist, sampling plan")

from followup.views import appeals, calendar, cases, credit, disposals, plan, traceability  # noqa: E402,F401  (register the routes)
