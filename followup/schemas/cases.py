"""Schemas of cases and the traceability view."""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import Schema, fields, validate

from core.fields import JsonBoolean
from followup.models import CASE_KINDS, CASE_STATUSES, PRODUCT_TYPES, RECALL_LEVELS
from followup.schemas.common import CsvPageArgs, Id, Required, Text
from followup.services.deadlines import complete_overdue, start_overdue
from inspection.schemas import EnterpriseBriefSchema


# Cases -------------------------------------------------------------------------------------------

RegionCode = lambda: fields.String(validate=validate.Regexp(r"^\d{6}$", error="must be a six-digit region code"))  # noqa: E731


def _timestamp(description: str, example: str):
    from core.clock import LOCAL_TZ

    return fields.AwareDateTime(default_timezone=LOCAL_TZ,
                                validate=validate.Range(min=datetime(2000, 1, 1, tzinfo=timezone.utc),
                                                        max=datetime(2100, 1, 1, tzinfo=timezone.utc)),
                                metadata={"description": f"{description}; local time unless an offset is given",
                                          "example": example})


class CaseListArgs(CsvPageArgs):
    kind = fields.String(validate=validate.OneOf(CASE_KINDS), metadata={"description": "Only cases of this kind",
                                                                        "example": "recall"})
    status = fields.String(validate=validate.OneOf(CASE_STATUSES),
                           metadata={"description": "Only cases in this state", "example": "open"})
    region = fields.String(validate=validate.Length(min=1, max=6), metadata={"example": "330106"})
    enterprise_id = Id(metadata={"example": 1})
    batch_id = Id(metadata={"example": 8})
    alert_id = Id(metadata={"example": 1})
    overdue = fields.Boolean(metadata={"description": "Only cases past (or not past) a deadline", "example": False})


class CaseOpenSchema(Schema):
    kind = fields.String(required=True, validate=validate.OneOf(CASE_KINDS), metadata={"example": "recall"})
    title = Required(200, metadata={"example": "纯牛奶菌落总数超标召回"})
    batch_ids = fields.List(Id(), validate=validate.Length(max=100), metadata={"example": [8]})
    alert_id = Id(allow_none=True, metadata={"example": None})
    enterprise_id = Id(allow_none=True, metadata={"example": None})
    product_type = fields.String(validate=validate.OneOf(PRODUCT_TYPES), allow_none=True,
                                 metadata={"description": "Picks the recall rules; default: the batch's or "
                                                          "alert's top category", "example": None})
    level = fields.String(validate=validate.OneOf(RECALL_LEVELS), allow_none=True, metadata={"example": "II"})
    quantity_concerned = fields.Float(validate=validate.Range(0, 1e12), allow_none=True, metadata={"example": 1200})
    unit = Text(16, allow_none=True, metadata={"example": "盒"})
    distribution = fields.List(RegionCode(), validate=validate.Length(max=500),
                               metadata={"description": "Region codes the goods reached", "example": ["330106"]})
    opened_at = _timestamp("When the risk became known (default: now)", "2025-03-21T09:00:00+08:00")
    note = Text(2000, allow_none=True, metadata={"example": "依据抽检不合格结果启动"})


class CaseUpdateSchema(Schema):
    title = fields.String(validate=validate.Length(min=1, max=200), metadata={"example": "纯牛奶召回（二级）"})
    level = fields.String(validate=validate.OneOf(RECALL_LEVELS), allow_none=True, metadata={"example": "II"})
    quantity_concerned = fields.Float(validate=validate.Range(0, 1e12), allow_none=True, metadata={"example": 1200})
    quantity_recovered = fields.Float(validate=validate.Range(0, 1e12), allow_none=True, metadata={"example": 1100})
    unit = Text(16, allow_none=True, metadata={"example": "盒"})
    distribution = fields.List(RegionCode(), validate=validate.Length(max=500), metadata={"example": ["330106"]})
    recovered_disposal = Text(4000, allow_none=True, metadata={"example": "已在监管人员见证下销毁"})
    add_batch_ids = fields.List(Id(), validate=validate.Length(max=100), metadata={"example": [8]})
    note = Text(2000, allow_none=True, metadata={"example": "更新召回数量"})


class CaseActionSchema(Schema):
    what = Required(4000, metadata={"example": "已通知经销商停止销售"})
    at = _timestamp("When it was done (default: now)", "2025-03-21T15:00:00+08:00")
    started = JsonBoolean(load_default=False, metadata={
        "description": "This action started the recall (food) or notified distributors and users (drugs)",
        "example": False})


class CaseTransitionSchema(Schema):
    to = fields.String(required=True, validate=validate.OneOf(CASE_STATUSES), metadata={"example": "investigating"})
    note = Text(2000, allow_none=True, metadata={"example": "开始调查"})
    reason = Text(2000, allow_none=True, metadata={"description": "Required to cancel"})
    outcome = Text(4000, allow_none=True, metadata={"description": "Required to close"})
    quantity_recovered = fields.Float(validate=validate.Range(0, 1e12), allow_none=True)
    recovered_disposal = Text(4000, allow_none=True)


class CaseEventSchema(Schema):
    id = fields.Integer()
    at = fields.DateTime()
    user_id = fields.Integer()
    kind = fields.String()
    from_status = fields.String(allow_none=True)
    to_status = fields.String(allow_none=True)
    what = fields.String()
    details = fields.Raw(allow_none=True)


class CaseSchema(Schema):
    id = fields.Integer()
    kind = fields.String()
    title = fields.String()
    source = fields.String(metadata={"description": "batch, alert or none"})
    status = fields.String()
    region = fields.String(attribute="region_code")
    enterprise_id = fields.Integer(allow_none=True)
    enterprise_blacklisted = fields.Function(lambda c: bool(c.enterprise and c.enterprise.blacklisted),
                                             metadata={"description": "The enterprise is on the blacklist"})
    alert_id = fields.Integer(allow_none=True)
    batch_ids = fields.List(fields.Integer())
    product_type = fields.String()
    level = fields.String(allow_none=True)
    quantity_concerned = fields.Float(allow_none=True)
    quantity_recovered = fields.Float(allow_none=True)
    unit = fields.String(allow_none=True)
    distribution = fields.List(fields.String())
    recovered_disposal = fields.String(allow_none=True)
    opened_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    start_due_at = fields.DateTime(allow_none=True, metadata={"description": "Start (food) or notify (drugs) by"})
    complete_due_on = fields.Date(allow_none=True, metadata={"description": "Complete by (food)"})
    start_overdue = fields.Function(lambda c: start_overdue(c))
    complete_overdue = fields.Function(lambda c: complete_overdue(c))
    outcome = fields.String(allow_none=True)
    cancel_reason = fields.String(allow_none=True)
    closed_at = fields.DateTime(allow_none=True)


class CaseDetailSchema(CaseSchema):
    events = fields.List(fields.Nested(CaseEventSchema))


# Traceability ------------------------------------------------------------------------------------

class BatchBriefSchema(Schema):
    id = fields.Integer()
    sample_no = fields.String()
    sampled_on = fields.Date()
    reported_on = fields.Date(allow_none=True)
    region = fields.String(attribute="region_code")
    category = fields.String(attribute="category_code")
    product = fields.String(allow_none=True)
    lot = fields.String(allow_none=True)
    conclusion = fields.String()
    fail_reason = fields.String(allow_none=True)


class TimelineEventSchema(Schema):
    on = fields.Date()
    kind = fields.String(metadata={"description": "sampled, failed, retest_applied, retest_pass, retest_fail, "
                                                  "recall_opened, traceability_opened, case_closed, "
                                                  "case_cancelled, blacklisted, blacklist_removed"})
    ref = fields.String(metadata={"description": "kind:id of the record, e.g. batch:12"})
    region = fields.String(allow_none=True)
    text = fields.String(allow_none=True)


class TraceSchema(Schema):
    batch = fields.Nested(BatchBriefSchema)
    enterprise = fields.Nested(EnterpriseBriefSchema, allow_none=True)
    same_producer = fields.List(fields.Nested(BatchBriefSchema), metadata={"description": "All regions, newest first"})
    same_lot = fields.List(fields.Nested(BatchBriefSchema))
    failures = fields.List(fields.Nested(BatchBriefSchema))
    open_cases = fields.List(fields.Nested(CaseSchema))
    timeline = fields.List(fields.Nested(TimelineEventSchema), metadata={"description": "Oldest first"})
