"""Warning API: alerts (list, show, triage), scans, and one series' history with its assessment."""
from __future__ import annotations

from flask import current_app, g
from flask.views import MethodView

from core.auth.permissions import require, scope_of
from core.extensions import Blueprint, db
from core.fast_dump import Dumper
from core.replica import statistics_session
from warning import alerts as service
from warning.scan import last_complete_month
from warning.schemas import (AlertDetailSchema, AlertListArgs, AlertSchema, DismissSchema, NoteSchema,
                             PageArgs, ScanSchema, SeriesSchema, TrackRecordArgs, TrackRecordSchema)
from warning.track_record import track_record

blp = Blueprint("warning", __name__, url_prefix="/api", description="Early warning: alerts, scans, series")
ID = "<int(min=1, max=2147483647):alert_id>"
ALERT_ID_DOC = [{"in": "path", "name": "alert_id", "example": 1}]
# A hot list: the schema's JSON without marshmallow's per-value cost.
ALERTS = Dumper(AlertSchema).for_columns(service.LIST_COLUMNS)


def _detail(alert):
    alert.assessments = service.assessment_history(db.session, alert.category_code, alert.region_code)
    return alert


@blp.route("/alerts")
class Alerts(MethodView):
    @require("read")
    @blp.arguments(AlertListArgs(), location="query")  # an instance: a class is instantiated per request
    @blp.response(200, AlertSchema(many=True))
    def get(self, args):
        """List alerts in your region, filtered by level, status, category and region subtree."""
        limit, offset = args.pop("limit"), args.pop("offset")
        return ALERTS.response(service.list_alerts(db.session, service.AlertFilter(**args), scope_of(g.user),
                                                   limit, offset))


@blp.route(f"/alerts/{ID}", parameters=ALERT_ID_DOC)
class AlertResource(MethodView):
    @require("read")
    @blp.response(200, AlertDetailSchema)
    def get(self, alert_id: int):
        """Show an alert with its events and the series' assessment history."""
        return _detail(service.get_alert(db.session, alert_id, scope_of(g.user)))


def _action(action: str, schema, field: str, summary: str, body_required: bool):
    class AlertAction(MethodView):
        @require("triage")
        @blp.arguments(schema, required=body_required)
        @blp.response(200, AlertDetailSchema)
        def post(self, data, alert_id: int):
            alert = service.act_on_alert(db.session, alert_id, action, data.get(field), g.user.id,
                                         scope_of(g.user), current_app.config["ALERT_DISMISS_SNOOZE_DAYS"])
            return _detail(alert)

    AlertAction.post.__doc__ = summary
    AlertAction.__name__ = f"Alert{action.title()}"
    blp.route(f"/alerts/{ID}/{action}", parameters=ALERT_ID_DOC)(AlertAction)


_action("acknowledge", NoteSchema, "note", "Acknowledge an open alert (you are looking into it).", False)
_action("escalate", NoteSchema, "note", "Escalate an alert to the level above you: its subscribers and "
        "webhooks are notified with your name and note.", False)
_action("dismiss", DismissSchema, "reason", "Dismiss an alert as a false alarm; a reason is required.", True)


@blp.route("/series/<string(maxlength=96):category>/<string(maxlength=6):region>",
           parameters=[{"in": "path", "name": "category", "example": "food.dairy.liquid_milk"},
                       {"in": "path", "name": "region", "example": "330106"}])
class Series(MethodView):
    @require("read")
    @blp.response(200, SeriesSchema)
    def get(self, category: str, region: str):
        """Show a series' monthly pass rates against its floor and its latest assessment."""
        return service.series_history(db.session, category, region, scope_of(g.user))


@blp.route("/scans")
class Scans(MethodView):
    @require("read")
    @blp.arguments(PageArgs, location="query")
    @blp.response(200, ScanSchema(many=True))
    def get(self, args):
        """List warning scans, latest first (alert counts within the caller's region)."""
        return service.list_scans(db.session, args["limit"], args["offset"], scope_of(g.user))


@blp.route("/scans/track-record")
class TrackRecord(MethodView):
    @require("read")
    @blp.arguments(TrackRecordArgs, location="query")
    @blp.response(200, TrackRecordSchema)
    def get(self, args):
        """How past warnings turned out: by level, the share of series that went on to fall below
        the floor in the scan's forecast months (within the caller's region)."""
        with statistics_session() as session:  # months of aggregates: a replica's lag does not matter
            return track_record(session, scope_of(g.user), last_complete_month(), args["scans"])
