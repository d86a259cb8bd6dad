"""Schemas of the calendar, disposals, retests and objections."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from core.fields import JsonBoolean
from followup.models import OBJECTION_SUBJECTS, SEVERITIES
from followup.schemas.common import CsvPageArgs, Id, PageArgs, Required, Text
from followup.services.disposals import STATES
from inspection.models import CONCLUSIONS
from inspection.schemas import EnterpriseBriefSchema, TestItemSchema


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
    status = fields.String(validate=validate.Length(max=12), metadata={
        "description": "Only those in this state: a retest is requested or concluded; an objection open, "
                       "upheld or rejected", "example": "requested"})


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
