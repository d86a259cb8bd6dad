"""marshmallow schemas of the inspection API (input validation and OpenAPI in one place)."""
from __future__ import annotations

from marshmallow import Schema, fields, validate

from inspection.models import CONCLUSIONS, STAGES
from inspection.services.queries import SORTS
from inspection.services.search import SEARCH_MAX
from inspection.services.stats import BREAKDOWNS, PERIODS

MAX_ID = 2_147_483_647
# OpenAPI examples: a consistent, valid batch (what a client would send), so generated documentation
# and API fuzzers (tests/test_api_fuzz.py) have one input each operation accepts.
EXAMPLE_CODE = "91330106MA2B3C4D5D"  # GB 32100 check digit valid, registered in Xihu District (330106)
NEW_ENTERPRISE_CODE = "91330106MA2CDE7F88"
Text = lambda n, **kw: fields.String(validate=validate.Length(max=n), **kw)  # noqa: E731
# ASCII digits only (\d takes any script's: int() reads ٢٠٢٥ as 2025, but months are compared as
# text), and no final newline (which Python's $ lets through); valid in the OpenAPI document too.
MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])(?!\n)$"
MonthStr = lambda **kw: fields.String(validate=validate.Regexp(MONTH_PATTERN,  # noqa: E731
                                                               error="must be a month in YYYY-MM form"), **kw)


def Month(description: str = "A month, YYYY-MM", **kw) -> fields.String:
    """A month in an answer: documented with the pattern months are given in."""
    return fields.String(metadata={"description": description, "pattern": MONTH_PATTERN, "example": "2025-04"}, **kw)


class TestItemSchema(Schema):
    __test__ = False
    item = fields.String(required=True, validate=validate.Length(min=1, max=200), metadata={"example": "蛋白质"})
    value = Text(100, allow_none=True, metadata={"description": "Measured value, e.g. '0.12' or '未检出'",
                                                 "example": "3.1"})
    unit = Text(32, allow_none=True, metadata={"example": "g/100g"})
    limit = Text(100, allow_none=True, metadata={"description": "Limit as written in the standard, e.g. '≤0.5'",
                                                 "example": "≥2.9"})
    standard = Text(200, allow_none=True, metadata={"example": "GB 25190-2010"})
    verdict = fields.String(required=True, validate=validate.OneOf(CONCLUSIONS), metadata={"example": "pass"})


class BatchFieldsSchema(Schema):
    sampled_on = fields.Date(metadata={"description": "Date sampled (local date)", "example": "2025-03-10"})
    reported_on = fields.Date(allow_none=True,
                              metadata={"description": "Date the lab reported", "example": "2025-03-20"})
    category = fields.String(validate=validate.Length(min=1, max=96),
                             metadata={"description": "Category code, any node", "example": "food.dairy.liquid_milk"})
    region = fields.String(validate=validate.Length(min=1, max=6),
                           metadata={"description": "Region code where sampled", "example": "330106"})
    enterprise_credit_code = Text(18, allow_none=True, metadata={"description": "Producer's unified social credit code",
                                                                 "example": EXAMPLE_CODE})
    enterprise_name = Text(200, allow_none=True, metadata={"description": "Registers the producer if its code is new",
                                                           "example": "杭州示例乳业有限公司"})
    producer_name = Text(200, allow_none=True, metadata={"description": "Seller or producer without a credit code"})
    product = Text(200, allow_none=True, metadata={"example": "纯牛奶"})
    brand = Text(100, allow_none=True, metadata={"example": "示例"})
    specification = Text(100, allow_none=True, metadata={"example": "250mL/盒"})
    lot = Text(100, allow_none=True, metadata={"example": "20250301A"})
    production_date = fields.Date(allow_none=True, metadata={"example": "2025-03-01"})
    stage = fields.String(allow_none=True, validate=validate.OneOf(STAGES), metadata={"example": "production"})
    sampling_agency = Text(200, allow_none=True, metadata={"example": "西湖区市场监督管理局"})
    laboratory = Text(200, allow_none=True, metadata={"example": "浙江省食品药品检验研究院"})
    report_no = Text(100, allow_none=True, metadata={"example": "SP2025-0310-001"})
    conclusion = fields.String(validate=validate.OneOf(CONCLUSIONS), metadata={"example": "pass"})
    fail_reason = Text(500, allow_none=True, metadata={"description": "Why a batch failed without a failing item"})
    items = fields.List(fields.Nested(TestItemSchema), validate=validate.Length(max=500))


class BatchCreateSchema(BatchFieldsSchema):
    sample_no = fields.String(required=True, validate=validate.Length(min=1, max=64),
                              metadata={"description": "Unique sample number", "example": "SP2025-0310-001"})
    sampled_on = fields.Date(required=True, metadata={"description": "Date sampled (local date)",
                                                      "example": "2025-03-10"})
    category = fields.String(required=True, validate=validate.Length(min=1, max=96),
                             metadata={"description": "Category code, any node", "example": "food.dairy.liquid_milk"})
    region = fields.String(required=True, validate=validate.Length(min=1, max=6),
                           metadata={"description": "Region code where sampled", "example": "330106"})
    conclusion = fields.String(required=True, validate=validate.OneOf(CONCLUSIONS), metadata={"example": "pass"})
    items = fields.List(fields.Nested(TestItemSchema), load_default=list, validate=validate.Length(max=500))


class BatchAmendSchema(BatchFieldsSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"example": "实验室更正了检验报告"})


class ReasonSchema(Schema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=500),
                           metadata={"example": "重复录入"})


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
    credit_code = fields.String(required=True, validate=validate.Length(equal=18),
                                metadata={"example": NEW_ENTERPRISE_CODE})
    name = fields.String(required=True, validate=validate.Length(min=1, max=200),
                         metadata={"example": "杭州西湖示例食品有限公司"})
    region = fields.String(validate=validate.Length(equal=6),
                           metadata={"description": "Defaults to the division code inside the credit code",
                                     "example": "330106"})
    address = Text(255, allow_none=True, metadata={"example": "杭州市西湖区文三路1号"})


class EnterpriseListArgs(Schema):
    q = fields.String(validate=validate.Length(max=200), metadata={"description": "Name contains, or exact credit code",
                                                                   "example": "示例"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500), metadata={"example": 50})
    offset = fields.Integer(load_default=0, validate=validate.Range(0, MAX_ID), metadata={"example": 0})


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
    sampled_from = fields.Date(metadata={"description": "Sampled on or after this date", "example": "2025-01-01"})
    sampled_to = fields.Date(metadata={"description": "Sampled on or before this date", "example": "2025-12-31"})
    category = fields.String(validate=validate.Length(min=1, max=96), metadata={"description": "Category subtree",
                                                                         "example": "food.dairy"})
    region = fields.String(validate=validate.Length(min=1, max=6), metadata={"description": "Region subtree",
                                                                      "example": "330106"})
    enterprise_id = fields.Integer(validate=validate.Range(1, MAX_ID), metadata={"example": 1})
    conclusion = fields.String(validate=validate.OneOf(CONCLUSIONS),
                               metadata={"description": "Only batches with this conclusion", "example": "pass"})
    stage = fields.String(validate=validate.OneOf(STAGES), metadata={
        "description": "Only batches sampled at this stage of the supply chain", "example": "production"})
    include_voided = fields.Boolean(load_default=False, metadata={"description": "Also list voided batches",
                                                                  "example": False})
    search = fields.String(validate=validate.Length(max=SEARCH_MAX), metadata={
        "description": "A sample number's beginning or any part of the product name", "example": "牛奶"})
    sort = fields.String(load_default="-sampled_on",
                         validate=validate.OneOf([*SORTS, *(f"-{s}" for s in SORTS)]),
                         metadata={"description": "The order: a field, descending with a leading '-'; ties "
                                                  "broken by id", "example": "-sampled_on"})
    limit = fields.Integer(load_default=50, validate=validate.Range(1, 500), metadata={"example": 50})
    cursor = fields.String(validate=validate.Length(max=512),
                           metadata={"description": "The next_cursor of the previous page"})


class BatchExportArgs(BatchListArgs):
    """The list's filters (use it with exclude=EXPORT_EXCLUDES: the export has no pages and
    keeps the list's order) and the file's format."""
    format = fields.String(load_default="csv", validate=validate.OneOf(("csv", "xlsx")), metadata={
        "description": "csv (UTF-8 with BOM) or xlsx", "example": "csv"})


EXPORT_EXCLUDES = ("sort", "limit", "cursor")


class RevisionSchema(Schema):
    id = fields.Integer()
    version = fields.Integer()
    action = fields.String()
    reason = fields.String()
    snapshot = fields.Dict()
    changed_by_id = fields.Integer()
    changed_at = fields.DateTime()


class ImportArgs(Schema):
    atomic = fields.Boolean(load_default=False, metadata={"description": "Store nothing if any row is rejected",
                                                          "example": False})


class RejectedRowSchema(Schema):
    """One problem of a rejected row (a row with several problems has several entries)."""
    row = fields.Integer(metadata={"description": "File row; row 1 is the header"})
    column = fields.String(metadata={"description": "The file column at fault; empty for the row as a whole"})
    reason = fields.String()


class ImportReportSchema(Schema):
    accepted = fields.Integer(metadata={"description": "Rows stored"})
    unchanged = fields.Integer(metadata={"description": "Rows already stored (or repeated in the file) with "
                                                        "identical content"})
    rejected_rows = fields.Integer(metadata={"description": "Rows rejected: the distinct rows of `rejected`"})
    rejected = fields.List(fields.Nested(RejectedRowSchema), metadata={
        "description": "Every problem of every rejected row, by row then column: one entry per problem, "
                       "so a row with several problems appears several times (count rows with `rejected_rows`)"})
    import_id = fields.Integer(allow_none=True)
    stored = fields.Boolean(metadata={"description": "False when atomic and a row was rejected"})


# OpenAPI fragments for what the views read outside marshmallow (the If-Match header, the
# uploaded file) and for the CSV/XLSX downloads, e.g. `@blp.doc(parameters=[IF_MATCH])`.
IF_MATCH = {"in": "header", "name": "If-Match", "required": True,
            "description": "The batch's ETag (its version, e.g. \"1\"), from GET or the last change; "
                           "428 when absent, 412 when stale",
            "schema": {"type": "string"}, "example": '"1"'}
IF_MATCH_OPTIONAL = {**IF_MATCH, "required": False,
                     "description": "The batch's ETag; when sent, a stale version is refused with 412"}
# The headers a batch's answers carry (GET, POST, PATCH, void).
ETAG_HEADER = {"ETag": {"description": "The batch's version, quoted (e.g. \"1\"): send it back in If-Match",
                        "required": True, "schema": {"type": "string"}, "example": '"1"'}}
CREATED_HEADERS = {**ETAG_HEADER, "Location": {"description": "The new batch's URL", "required": True,
                                               "schema": {"type": "string"}, "example": "/api/batches/1"}}
EXAMPLE_IMPORT_CSV = ("sample_no,sampled_on,category,region,result,enterprise_credit_code,enterprise_name,"
                      "failed_items,fail_reason\r\n"
                      f"SP2025-0310-101,2025-03-10,food.dairy.liquid_milk,330106,pass,{EXAMPLE_CODE},"
                      "杭州示例乳业有限公司,,\r\n")
IMPORT_FILE_BODY = {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "example": EXAMPLE_IMPORT_CSV,
                            "description": "CSV (UTF-8) or XLSX; the first row names the columns"}}}}}}
CSV_MEDIA_TYPE = "text/csv"
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class JobLinkSchema(Schema):
    job_id = fields.Integer()
    url = fields.String()
    status = fields.String()


class PassRateArgs(Schema):
    category = fields.String(validate=validate.Length(min=1, max=96),
                             metadata={"description": "Category node; default all products", "example": "food.dairy"})
    region = fields.String(validate=validate.Length(min=1, max=6),
                           metadata={"description": "Region node; default 330000", "example": "330106"})
    period = fields.String(load_default="month", validate=validate.OneOf(PERIODS), metadata={
        "description": "The period each row covers (rows' `period`: YYYY-MM, YYYY-Qn or YYYY)", "example": "month"})
    from_ = MonthStr(data_key="from", metadata={"description": "First month, inclusive; default 11 months before 'to'",
                                                "example": "2025-01"})
    to = MonthStr(metadata={"description": "Last month, inclusive; default this month", "example": "2025-06"})
    breakdown = fields.String(load_default="none", validate=validate.OneOf(BREAKDOWNS), metadata={
        "description": "Rows per period for the node as a whole (none), or per direct child category, "
                       "per direct sub-region, or both", "example": "none"})
    origin = fields.String(load_default="all", validate=validate.OneOf(("all", "local")), metadata={
        "description": "all producers, or local: only producers registered in the province", "example": "all"})
    format = fields.String(load_default="json", validate=validate.OneOf(("json", "csv", "xlsx")),
                           metadata={"example": "json"})


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
