"""Schemas of quality credit, the blacklist and the sampling plan."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from followup.schemas.common import Id, PageArgs, Required, plannable_month
from inspection.schemas import MONTH_PATTERN, EnterpriseBriefSchema, Month


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
    month = fields.String(validate=[validate.Regexp(MONTH_PATTERN, error="must be a month in YYYY-MM form"),
                                    plannable_month],
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
    month = Month("The month planned, YYYY-MM")
    as_of = Month("The month whose data and scan the plan rests on, YYYY-MM")
    scan_id = fields.Integer(allow_none=True)
    scan_as_of = Month("The month of the scan the plan ranks by (the latest finished one up to as_of), YYYY-MM",
                       allow_none=True)
    total = fields.Integer()
    lines = fields.List(fields.Nested(PlanLineSchema))
