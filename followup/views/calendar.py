"""GET /api/calendar, PUT /api/calendar/<day>: the working-day calendar."""
from __future__ import annotations

from datetime import date

from flask import g
from flask.views import MethodView

from core.auth.permissions import require
from core.errors import ValidationFailed
from core.extensions import db
from followup.schemas.disposals import CalendarArgs, CalendarDaySchema, CalendarSetSchema
from followup.services import calendar_days as service
from followup.views import blp


@blp.route("/calendar")
class Calendar(MethodView):
    @require("followup_read")
    @blp.arguments(CalendarArgs, location="query")
    @blp.response(200, CalendarDaySchema(many=True))
    def get(self, args):
        """List the calendar's per-date overrides (holidays, make-up working days) between two dates."""
        return service.list_days(db.session, args["from_"], args["to"])


@blp.route("/calendar/<string(maxlength=10):day>", parameters=[{"in": "path", "name": "day", "example": "2026-10-10"}])
class CalendarDay(MethodView):
    @require("administer")
    @blp.arguments(CalendarSetSchema)
    @blp.response(200, CalendarDaySchema)
    def put(self, data, day: str):
        """Declare a date a working day or a day off (administrators)."""
        try:
            parsed = date.fromisoformat(day)
        except ValueError:
            raise ValidationFailed.on("day", "must be a date in YYYY-MM-DD form") from None
        return service.set_day(db.session, parsed, data["working"], data.get("note"), g.user.id)
