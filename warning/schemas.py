"""marshmallow schemas of the warning API (alerts, scans, series)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from inspection.schemas import Month
from warning.alerts import ALERT_SORTS
from warning.engine.levels import LEVELS
from warning.models import ALERT_STATUSES, SCAN_STATUSES



class PageArgs(Schema):
    limit = fields.Integer(load_default=50, validate=validate.Range(min=1, max=500), metadata={"example": 50})
    offset = fields.Integer(load_default=0, validate=validate.Range(min=0, max=2_147_483_647),
                            metadata={"example": 0})


class AlertListArgs(PageArgs):
    level = fields.String(validate=validate.OneOf(LEVELS), metadata={"description": "Only alerts at this level",
                                                                     "example": "yellow"})
    sort = fields.String(load_default="-updated_at", validate=validate.OneOf(ALERT_SORTS), metadata={
        "description": "-updated_at: the latest changed first; -severity: the highest level first, then the "
                       "likeliest", "example": "-severity"})
    status = fields.String(validate=validate.OneOf(ALERT_STATUSES),
                           metadata={"description": "Only alerts in this state", "example": "open"})
    category = fields.String(validate=validate.Length(min=1, max=96),
                             metadata={"description": "Category subtree", "example": "food.dairy"})
    region = fields.String(validate=validate.Length(min=1, max=6),
                           metadata={"description": "Region subtree", "example": "330106"})


class NoteSchema(Schema):
    note = fields.String(validate=validate.Length(max=1000), allow_none=True,
                         metadata={"example": "已通知属地监管所核查"})


class DismissSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=1000),
                           metadata={"example": "样本录入错误，已更正"})


class ForecastPointSchema(Schema):
    month = Month()
    rate = fields.Float()
    lo = fields.Float()
    hi = fields.Float()


class ReasonsSchema(Schema):
    zh = fields.String()
    en = fields.String()


class AssessmentSchema(Schema):
    scan_id = fields.Integer()
    as_of = Month("The month the scan assessed, YYYY-MM", attribute="scan.as_of")
    category = fields.String(attribute="category_code")
    region = fields.String(attribute="region_code")
    floor = fields.Float()
    pass_rate = fields.Float()
    pass_rate_lo = fields.Float()
    pass_rate_hi = fields.Float()
    slope = fields.Float(metadata={"description": "Trend, percentage points a month"})
    forecast = fields.List(fields.Nested(ForecastPointSchema))
    probability = fields.Float(metadata={"description": (
        "Probability that the pass rate is below the floor over the forecast's months; for a red "
        "series at least the confidence that it is below the floor now")})
    level = fields.String(metadata={"description": (
        "none, blue (watch), yellow, orange or red. Red: below the floor now with high confidence, on "
        "the estimate or on the series' own batches of the last 3 months alone (exact binomial test, 1%); "
        "own batches below the floor at 5% are at least blue")})
    reasons = fields.Nested(ReasonsSchema)


class AlertEventSchema(Schema):
    at = fields.DateTime()
    user_id = fields.Integer(allow_none=True)
    scan_id = fields.Integer(allow_none=True, metadata={"description": "The scan that made the change"})
    action = fields.String()
    from_level = fields.String(allow_none=True)
    to_level = fields.String(allow_none=True)
    note = fields.String(allow_none=True)


class AlertSchema(Schema):
    id = fields.Integer()
    category = fields.String(attribute="category_code")
    region = fields.String(attribute="region_code")
    level = fields.String()
    status = fields.String()
    probability = fields.Float(metadata={"description": "The probability of the alert's last scan (see the assessment)"})
    opened_scan_id = fields.Integer()
    last_scan_id = fields.Integer()
    group_id = fields.Integer(allow_none=True, metadata={
        "description": "The group (one notice) of the scan that last raised or escalated it"})
    dismissed_until = fields.DateTime(allow_none=True, metadata={
        "description": "A dismissal holds until then unless the level rises"})
    created_at = fields.DateTime()
    updated_at = fields.DateTime()


class AlertDetailSchema(AlertSchema):
    events = fields.List(fields.Nested(AlertEventSchema))
    assessments = fields.List(fields.Nested(AssessmentSchema), metadata={"description": "Newest first"})


class ScanSchema(Schema):
    id = fields.Integer()
    as_of = Month("The month the scan assessed, YYYY-MM")
    status = fields.String(validate=validate.OneOf(SCAN_STATUSES))
    started_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    series_assessed = fields.Integer()
    alerts_raised = fields.Integer()
    alerts_escalated = fields.Integer()
    alerts_resolved = fields.Integer()
    model_version = fields.String()
    backfill = fields.Boolean(metadata={
        "description": "As of an earlier month than the newest scan's: assessments only, alerts left alone"})
    run_by = fields.String(allow_none=True, metadata={
        "description": "Who ran it: login@host:process:origin (cli or scheduler); null before it was recorded",
        "example": "ops@inspect-1:4242:scheduler"})


class TrackRecordArgs(Schema):
    scans = fields.Integer(load_default=12, validate=validate.Range(1, 60), metadata={
        "description": "How many past scans (the latest of each as-of month whose forecast months are over)",
        "example": 12})


class RecordScanSchema(Schema):
    as_of = Month("The month the scan assessed, YYYY-MM")
    horizon = fields.Integer()
    series = fields.Integer(metadata={"description": "Series assessed with a batch in the months after"})
    fell_below = fields.Integer()


class RecordCountSchema(Schema):
    series = fields.Integer()
    fell_below = fields.Integer(metadata={
        "description": "Failures in the next horizon months beyond chance at the floor (the risk model's label)"})
    share = fields.Float(allow_none=True)


class RecordLevelSchema(RecordCountSchema):
    level = fields.String(validate=validate.OneOf(LEVELS))


class TrackRecordSchema(Schema):
    scans = fields.List(fields.Nested(RecordScanSchema))
    levels = fields.List(fields.Nested(RecordLevelSchema))
    flagged = fields.Nested(RecordCountSchema, metadata={"description": "Yellow, orange and red together"})
    not_flagged = fields.Nested(RecordCountSchema, metadata={"description": "None and blue together"})
    falls_flagged_before = fields.Float(allow_none=True, metadata={
        "description": "Share of the series that fell below whose scan had flagged them"})


class SeriesMonthSchema(Schema):
    month = Month()
    batches = fields.Integer()
    failed = fields.Integer()
    pass_rate = fields.Float(allow_none=True)
    floor = fields.Float(allow_none=True)


class SeriesSchema(Schema):
    category = fields.String()
    region = fields.String()
    months = fields.List(fields.Nested(SeriesMonthSchema))
    assessment = fields.Nested(AssessmentSchema, allow_none=True)
