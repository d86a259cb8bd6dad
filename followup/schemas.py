"""marshmallow schemas of the follow-up API (input validation and OpenAPI in one place)."""
from __future__ import annotations

from datetime import datetime, timezone

from marshmallow import Schema, ValidationError, fields, validate

from followup.models import (CASE_KINDS, CASE_STATUSES, OBJECTION_SUBJECTS, PRODUCT_TYPES, RECALL_LEVELS,
                             SEVERITIES)
from followup.services.deadlines import complete_overdue, start_overdue
from followup.services.disposals import STATES
from inspection.models import CONCLUSIONS
from inspection.schemas import EnterpriseBriefSchema, TestItemSchema

MAX_ID = 2_147_483_647
Text = lambda n, **kw: fields.String(validate=validate.Length(max=n), **kw)  # noqa: E731
Required = lambda n, **kw: fields.String(required=True, validate=validate.Length(min=1, max=n), **kw)  # noqa: E731
Id = lambda **kw: fields.Integer(validate=validate.Range(1, MAX_ID), **kw)  # noqa: E731


class JsonBoolean(fields.Boolean):
    """true or false, nothing else (marshmallow's Boolean also takes 0, 1, "yes", ...)."""

    def _deserialize(self, value, attr, data, **kwargs):
        if not isinstance(value, bool):
            raise self.make_error("invalid")
        return value


def _plannable_month(text: str) -> None:
    if text[:4].isdigit() and not 1900 <= int(text[:4]) <= 2999:
        raise ValidationError("must be a month between 1900-01 and 2999-12")


class PageArgs(Schema):
    limit = fields.Integer(load_default=100, validate=validate.Range(1, 500), metadata={"example": 100})
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_ID), metadata={"example": 0})


class CsvPageArgs(PageArgs):
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv")),
                           metadata={"example": "json"})


# Calendar ----------------------------------------------------------------------------------------

class CalendarArgs(Schema):
    from_ = fields.Date(data_key="from", required=True, metadata={"example": "2026-01-01"})
    to = fields.Date(required=True, metadata={"example": "2026-12-31"})


class CalendarDaySchema(Schema):
    day = fields.Date()
    working = fields.Boolean()
    note = fields.String(allow_none=True)
    updated_at = fields.DateTime()


class CalendarSetSchema(Schema):
    working = JsonBoolean(required=True, metadata={"description": "true: a working day (e.g. a make-up "
                                                                     "Saturday); false: a day off",
                                                      "example": True})
    note = Text(100, allow_none=True, metadata={"example": "国庆节调休上班"})


# Disposals ---------------------------------------------------------------------------------------

class DisposalListArgs(CsvPageArgs):
    status = fields.String(load_default="open", validate=validate.OneOf(STATES),
                           metadata={"description": "open: without a closed disposal (includes due and "
                                                    "overdue); due: deadline within the due window; "
                                                    "overdue: past it; closed; all", "example": "open"})
    region = fields.String(validate=validate.Length(min=1, max=6), metadata={"example": "330106"})
    enterprise_id = Id(metadata={"example": 1})


class RegionArgs(Schema):
    region = fields.String(validate=validate.Length(min=1, max=6), metadata={"example": "330100"})


class DisposalSchema(Schema):
    batch_id = fields.Integer(attribute="batch.id")
    sample_no = fields.String(attribute="batch.sample_no")
    product = fields.String(attribute="batch.product", allow_none=True)
    lot = fields.String(attribute="batch.lot", allow_none=True)
    category = fields.String(attribute="batch.category_code")
    region = fields.String(attribute="batch.region_code")
    sampled_on = fields.Date(attribute="batch.sampled_on")
    reported_on = fields.Date(attribute="batch.reported_on", allow_none=True)
    enterprise = fields.Nested(EnterpriseBriefSchema, attribute="batch.enterprise", allow_none=True)
    deadline = fields.Date(metadata={"description": "Disposal due date: the report date + 3 months"})
    days_left = fields.Integer()
    state = fields.String(metadata={"description": "open, due, overdue or closed"})
    severity = fields.String(allow_none=True)
    notified_on = fields.Date(allow_none=True, metadata={"description": "The day the producer was told"})
    unit_notified_on = fields.Date(allow_none=True)
    measures = fields.String(allow_none=True)
    cause = fields.String(allow_none=True)
    outcome = fields.String(allow_none=True)
    closed_on = fields.Date(allow_none=True)


class RegionSummarySchema(Schema):
    region = fields.String()
    name = fields.String()
    open = fields.Integer(metadata={"description": "Failed batches without a closed disposal"})
    due = fields.Integer()
    overdue = fields.Integer()


class DisposalRecordSchema(Schema):
    severity = fields.String(validate=validate.OneOf(SEVERITIES), metadata={"example": "general"})
    notified_on = fields.Date(allow_none=True, metadata={"description": "The day the producer was told",
                                                         "example": "2025-03-21"})
    unit_notified_on = fields.Date(allow_none=True, metadata={"example": "2025-03-21"})
    measures = Text(4000, allow_none=True, metadata={"example": "已责令下架，追溯同批次产品"})
    cause = Text(4000, allow_none=True, metadata={"example": "原料乳验收不严"})
    outcome = Text(4000, allow_none=True, metadata={"example": "立案调查，已责令整改"})


class DisposalCloseSchema(Schema):
    notified_on = fields.Date(metadata={"example": "2025-03-21"})
    measures = Text(4000, metadata={"example": "已下架并召回"})
    cause = Text(4000, metadata={"example": "原料乳验收不严"})
    outcome = Text(4000, metadata={"example": "已责令整改并处罚款"})
    closed_on = fields.Date(metadata={"example": "2025-04-30"})


# Retests and objections --------------------------------------------------------------------------

class RetestApplySchema(Schema):
    applied_on = fields.Date(required=True, metadata={"example": "2025-03-25"})
    applicant = Text(200, allow_none=True, metadata={"example": "杭州示例乳业有限公司"})
    laboratory = Required(200, metadata={"description": "Must differ from the first laboratory",
                                         "example": "宁波市食品检验检测研究院"})


class RetestConcludeSchema(Schema):
    conclusion = fields.String(required=True, validate=validate.OneOf(CONCLUSIONS), metadata={"example": "fail"})
    report_no = Text(100, allow_none=True, metadata={"example": "FJ2025-001"})
    concluded_on = fields.Date(metadata={"example": "2025-04-10"})
    items = fields.List(fields.Nested(TestItemSchema), validate=validate.Length(max=500),
                        metadata={"description": "The retest's items; on a pass they replace the batch's"})


class RetestSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    applied_on = fields.Date()
    due_on = fields.Date(metadata={"description": "The last day an application was accepted"})
    applicant = fields.String(allow_none=True)
    laboratory = fields.String()
    status = fields.String()
    conclusion = fields.String(allow_none=True)
    report_no = fields.String(allow_none=True)
    concluded_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()


class AppealListArgs(PageArgs):
    batch_id = Id(metadata={"example": 8})
    status = fields.String(validate=validate.Length(max=12), metadata={"example": "requested"})


class ObjectionRaiseSchema(Schema):
    subject = fields.String(required=True, validate=validate.OneOf(OBJECTION_SUBJECTS), metadata={"example": "method"})
    grounds = Required(4000, metadata={"example": "检验方法不适用于该产品"})
    raised_on = fields.Date(metadata={"example": "2025-03-25"})


class ObjectionDecideSchema(Schema):
    status = fields.String(required=True, validate=validate.OneOf(("upheld", "rejected")),
                           metadata={"example": "rejected"})
    decision = Required(4000, metadata={"example": "检验方法符合标准要求，异议不成立"})
    decided_on = fields.Date(metadata={"example": "2025-04-01"})


class ObjectionSchema(Schema):
    id = fields.Integer()
    batch_id = fields.Integer()
    raised_on = fields.Date()
    subject = fields.String()
    grounds = fields.String()
    status = fields.String()
    decision = fields.String(allow_none=True)
    decided_on = fields.Date(allow_none=True)
    created_at = fields.DateTime()


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
    kind = fields.String(validate=validate.OneOf(CASE_KINDS), metadata={"example": "recall"})
    status = fields.String(validate=validate.OneOf(CASE_STATUSES), metadata={"example": "open"})
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


# Credit and blacklist ----------------------------------------------------------------------------

class BlacklistEntrySchema(Schema):
    id = fields.Integer()
    enterprise_id = fields.Integer()
    action = fields.String(metadata={"description": "add or remove"})
    rule = fields.String(allow_none=True, metadata={"description": "The rule that added it; null: an officer"})
    reason = fields.String()
    at = fields.DateTime()
    user_id = fields.Integer(allow_none=True)


class FailureSchema(Schema):
    batch_id = fields.Integer()
    sample_no = fields.String()
    reported_on = fields.Date()
    severity = fields.String()
    refused = fields.Boolean(metadata={"description": "A refusal of sampling"})
    disposal_closed = fields.Boolean()
    overdue = fields.Boolean(metadata={"description": "Its disposal is overdue"})


class PenaltiesSchema(Schema):
    failures = fields.Float()
    cases = fields.Float()
    overdue = fields.Float()
    retests = fields.Float()


class CreditSchema(Schema):
    enterprise = fields.Nested(EnterpriseBriefSchema)
    as_of = fields.Date()
    window_months = fields.Integer()
    score = fields.Float(metadata={"description": "0-100; README 'Follow-ups' gives the formula"})
    grade = fields.String(metadata={"description": "A, B, C or D (D whenever blacklisted)"})
    penalties = fields.Nested(PenaltiesSchema)
    batches = fields.Integer(metadata={"description": "Batches sampled in the window"})
    failed = fields.Integer()
    serious_failures = fields.Integer()
    overdue_disposals = fields.Integer()
    failures = fields.List(fields.Nested(FailureSchema))
    recalls = fields.Dict(keys=fields.String(), values=fields.Integer(), metadata={"description": "Level -> cases"})
    traceability_cases = fields.Integer()
    open_cases = fields.Integer()
    retests = fields.Integer()
    retests_confirmed = fields.Integer()
    retests_passed = fields.Integer()
    blacklist_history = fields.List(fields.Nested(BlacklistEntrySchema))


class BlacklistArgs(PageArgs):
    region = fields.String(validate=validate.Length(min=1, max=6), metadata={"example": "330100"})
    history = fields.Boolean(load_default=False, metadata={"description": "Every addition and removal",
                                                           "example": False})


class BlacklistRowSchema(Schema):
    enterprise = fields.Nested(EnterpriseBriefSchema)
    entry = fields.Nested(BlacklistEntrySchema)


class BlacklistAddSchema(Schema):
    enterprise_id = Id(required=True, metadata={"example": 1})
    reason = Required(2000, metadata={"example": "多次抽检严重不合格，拒不整改"})


class BlacklistRemoveSchema(Schema):
    reason = Required(2000, metadata={"example": "整改到位，经复查合格"})


# Sampling plan -----------------------------------------------------------------------------------

class PlanArgs(PageArgs):
    month = fields.String(validate=[validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$", error="must be a month in YYYY-MM form"),
                                    _plannable_month],
                          metadata={"description": "The month to plan (default: next month)", "example": "2025-05"})
    region = fields.String(validate=validate.Length(min=1, max=6), metadata={"example": "330100"})


class PlanComponentsSchema(Schema):
    warning = fields.Float()
    uncertainty = fields.Float()
    credit = fields.Float()


class PlanLineSchema(Schema):
    rank = fields.Integer()
    kind = fields.String(metadata={"description": "series (category x county) or enterprise"})
    category = fields.String(allow_none=True)
    region = fields.String(allow_none=True)
    enterprise = fields.Nested(EnterpriseBriefSchema, allow_none=True)
    level = fields.String(allow_none=True, metadata={"description": "The series' warning level"})
    score = fields.Float()
    components = fields.Nested(PlanComponentsSchema)
    reasons = fields.List(fields.String())


class PlanSchema(Schema):
    month = fields.String()
    as_of = fields.String(metadata={"description": "The month whose data and scan the plan rests on"})
    scan_id = fields.Integer(allow_none=True)
    total = fields.Integer()
    lines = fields.List(fields.Nested(PlanLineSchema))
