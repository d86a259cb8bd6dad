"""marshmallow schemas of the inspection API (input validation and OpenAPI in one place)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from inspection.models import CONCLUSIONS, STAGES
from inspection.services.queries import SORTS
from inspection.services.stats import BREAKDOWNS, PERIODS

MAX_ID = 2_147_483_647
Text = lambda n, **kw: fields.String(validate=validate.Length(max=n), **kw)  # noqa: E731
MonthStr = lambda **kw: fields.String(validate=validate.Regexp(r"^\d{4}-(0[1-9]|1[0-2])$",  # noqa: E731
                                                               error="must be a month in YYYY-MM form"), **kw)


class TestItemSchema(Schema):
    __test__ = False
    item = fields.String(required=True, validate=validate.Length(min=1, max=200))
    value = Text(100, allow_none=True, metadata={"description": "Measured value, e.g. '0.12' or '未检出'"})
    unit = Text(32, allow_none=True)
    limit = Text(100, allow_none=True, metadata={"description": "Limit as written in the standard, e.g. '≤0.5'"})
    standard = Text(200, allow_none=True)
    verdict = fields.String(required=True, validate=validate.OneOf(CONCLUSIONS))


class BatchFieldsSchema(Schema):
    sampled_on = fields.Date(metadata={"description": "Date sampled (local date)"})
    reported_on = fields.Date(allow_none=True, metadata={"description": "Date the lab reported"})
    category = fields.String(validate=validate.Length(min=1, max=96), metadata={"description": "Category code, any node"})
    region = fields.String(validate=validate.Length(min=1, max=6), metadata={"description": "Region code where sampled"})
    enterprise_credit_code = Text(18, allow_none=True, metadata={"description": "Producer's unified social credit code"})
    enterprise_name = Text(200, allow_none=True, metadata={"description": "Registers the producer if its code is new"})
    producer_name = Text(200, allow_none=True, metadata={"description": "Seller or producer without a credit code"})
    product = Text(200, allow_none=True)
    brand = Text(100, allow_none=True)
    specification = Text(100, allow_none=True)
    lot = Text(100, allow_none=True)
    production_date = fields.Date(allow_none=True)
    stage = fields.String(allow_none=True, validate=validate.OneOf(STAGES))
    sampling_agency = Text(200, allow_none=True)
    laboratory = Text(200, allow_none=True)
    report_no = Text(100, allow_none=True)
    conclusion = fields.String(validate=validate.OneOf(CONCLUSIONS))
    fail_reason = Text(500, allow_none=True, metadata={"description": "Why a batch failed without a failing item"})
    items = fields.List(fields.Nested(TestItemSchema), validate=validate.Length(max=500))


class BatchCreateSchema(BatchFieldsSchema):
    sample_no = fields.String(required=True, validate=validate.Length(min=1, max=64))
    sampled_on = fields.Date(required=True)
    category = fields.String(required=True, validate=validate.Length(min=1, max=96))
    region = fields.String(required=True, validate=validate.Length(min=1, max=6))
    conclusion = fields.String(required=True, validate=validate.OneOf(CONCLUSIONS))
    items = fields.List(fields.Nested(TestItemSchema), load_default=list, validate=validate.Length(max=500))


class BatchAmendSchema(BatchFieldsSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500))


class EnterpriseBriefSchema(Schema):
    id = fields.Integer()
    credit_code = fields.String()
    name = fields.String()
    region_code = fields.String()
    blacklisted = fields.Boolean()


class EnterpriseSchema(EnterpriseBriefSchema):
    address = fields.String(allow_none=True)
    local = fields.Boolean(dump_only=True)
    created_at = fields.DateTime()


class EnterpriseCreateSchema(Schema):
    credit_code = fields.String(required=True, validate=validate.Length(equal=18))
    name = fields.String(required=True, validate=validate.Length(min=1, max=200))
    region = fields.String(validate=validate.Length(equal=6),
                           metadata={"description": "Defaults to the division code inside the credit code"})
    address = Text(255, allow_none=True)


class EnterpriseListArgs(Schema):
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Name contains, or exact credit code"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_ID))


class BatchSchema(Schema):
    id = fields.Integer()
    sample_no = fields.String()
    sampled_on = fields.Date()
    reported_on = fields.Date(allow_none=True)
    category = fields.String(attribute="category_code")
    region = fields.String(attribute="region_code")
    enterprise = fields.Nested(EnterpriseBriefSchema, allow_none=True)
    producer_name = fields.String(allow_none=True)
    product = fields.String(allow_none=True)
    brand = fields.String(allow_none=True)
    specification = fields.String(allow_none=True)
    lot = fields.String(allow_none=True)
    production_date = fields.Date(allow_none=True)
    stage = fields.String(allow_none=True)
    sampling_agency = fields.String(allow_none=True)
    laboratory = fields.String(allow_none=True)
    report_no = fields.String(allow_none=True)
    conclusion = fields.String()
    fail_reason = fields.String(allow_none=True)
    local = fields.Boolean(metadata={"description": "Producer registered in the province"})
    items = fields.List(fields.Nested(TestItemSchema))
    version = fields.Integer(metadata={"description": "Send it back as If-Match to amend"})
    voided_at = fields.DateTime(allow_none=True)
    void_reason = fields.String(allow_none=True)
    created_at = fields.DateTime()
    created_by_id = fields.Integer()
    updated_at = fields.DateTime(allow_none=True)
    updated_by_id = fields.Integer(allow_none=True)
    import_id = fields.Integer(allow_none=True)


class BatchPageSchema(Schema):
    items = fields.List(fields.Nested(BatchSchema))
    next_cursor = fields.String(allow_none=True, metadata={"description": "Pass as ?cursor= for the next page; null at the end"})


class BatchListArgs(Schema):
    sampled_from = fields.Date()
    sampled_to = fields.Date()
    category = fields.String(validate=validate.Length(max=96), metadata={"description": "Category subtree"})
    region = fields.String(validate=validate.Length(max=6), metadata={"description": "Region subtree"})
    enterprise_id = fields.Integer(validate=validate.Range(1, MAX_ID))
    conclusion = fields.String(validate=validate.OneOf(CONCLUSIONS))
    stage = fields.String(validate=validate.OneOf(STAGES))
    include_voided = fields.Boolean(load_default=False)
    sort = fields.String(load_default="-sampled_on",
                         validate=validate.OneOf([*SORTS, *(f"-{s}" for s in SORTS)]))
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500))
    cursor = fields.String(validate=validate.Length(max=512))


class RevisionSchema(Schema):
    id = fields.Integer()
    version = fields.Integer()
    action = fields.String()
    reason = fields.String()
    snapshot = fields.Dict()
    changed_by_id = fields.Integer()
    changed_at = fields.DateTime()


class ImportArgs(Schema):
    atomic = fields.Boolean(load_default=False, metadata={"description": "Store nothing if any row is rejected"})


class RejectedRowSchema(Schema):
    row = fields.Integer(metadata={"description": "File row; row 1 is the header"})
    column = fields.String()
    reason = fields.String()


class ImportReportSchema(Schema):
    accepted = fields.Integer()
    unchanged = fields.Integer()
    rejected = fields.List(fields.Nested(RejectedRowSchema))
    import_id = fields.Integer(allow_none=True)
    stored = fields.Boolean(metadata={"description": "False when atomic and a row was rejected"})


class JobLinkSchema(Schema):
    job_id = fields.Integer()
    url = fields.String()
    status = fields.String()


class PassRateArgs(Schema):
    category = fields.String(validate=validate.Length(max=96), metadata={"description": "Category node; default all products"})
    region = fields.String(validate=validate.Length(max=6), metadata={"description": "Region node; default 330000"})
    period = fields.String(load_default="month", validate=validate.OneOf(PERIODS))
    from_ = MonthStr(data_key="from", metadata={"description": "First month, inclusive; default 11 months before 'to'"})
    to = MonthStr(metadata={"description": "Last month, inclusive; default this month"})
    breakdown = fields.String(load_default="none", validate=validate.OneOf(BREAKDOWNS))
    origin = fields.String(load_default="all", validate=validate.OneOf(("all", "local")))
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")))


class PassRateSchema(Schema):
    category = fields.String(metadata={"description": "'*' is all products"})
    region = fields.String()
    period = fields.String(metadata={"description": "YYYY-MM, YYYY-Qn or YYYY"})
    batches = fields.Integer()
    failed = fields.Integer()
    pass_rate = fields.Float(allow_none=True)
    ci_low = fields.Float(allow_none=True)
    ci_high = fields.Float(allow_none=True)
    floor = fields.Float(allow_none=True)
    gap = fields.Float(allow_none=True)
    meets_floor = fields.Boolean(allow_none=True)
