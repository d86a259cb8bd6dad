"""What an import file's columns are: meaning, format, the Chinese header accepted for each,
and a template (the header and one example row) to start a file from.

The import page shows this table and offers the template; the parser maps the Chinese
headers to the column names. The aliases are a fixed table, one exact header per column
(whitespace aside), so a header either means one column or refuses the file: guessing at
near misses could put a value in the wrong column without anyone noticing.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from core.messages import N_, Message
from inspection.imports.rows import COLUMNS, REQUIRED
from inspection.services.rules import TEXT_LIMITS

TEXT = N_("text, up to %(limit)s characters")
DATE = N_("date as YYYY-MM-DD, or year first as 2026/11/3, 2026.11.3 or 2026年11月3日 (in XLSX also a date cell)")


@dataclass(frozen=True)
class Column:
    name: str
    header_zh: str  # the Chinese header accepted as this column
    meaning: Message
    form: Message  # what a value looks like
    example: str | date  # in the template's example row (English words; `example_zh` for Chinese)

    @property
    def required(self) -> bool:
        return self.name in REQUIRED


def _text(name: str) -> Message:
    return TEXT(limit=TEXT_LIMITS[name])


EXAMPLE_CODE = "91330106MA2B3C4D5D"  # check digit valid, issued in Xihu District (330106)
FILE_COLUMNS: tuple[Column, ...] = (
    Column("sample_no", "抽样单编号", N_("sample number, unique"), _text("sample_no"), "SP20250310-0001"),
    Column("sampled_on", "抽样日期", N_("sampling date, from 2000 on and not in the future"), DATE, date(2025, 3, 10)),
    Column("category", "产品类别", N_("product category"),
           N_("a category code (e.g. food.biscuit), not its name: see the code lists"), "food.dairy.liquid_milk"),
    Column("region", "抽样地区", N_("region where the sample was taken, within your own"),
           N_("a region code (e.g. 330106), not its name: see the code lists"), "330106"),
    Column("result", "检验结论", N_("conclusion"), N_("pass or fail (or 合格 / 不合格)"), "pass"),
    Column("reported_on", "报告日期", N_("report date, not before the sampling date"), DATE, date(2025, 3, 20)),
    Column("enterprise_credit_code", "统一社会信用代码", N_("producer's unified social credit code"),
           N_("18 characters with a valid check digit; a code not registered yet registers the enterprise"),
           EXAMPLE_CODE),
    Column("enterprise_name", "生产企业名称",
           N_("producer's name (for farm produce without a credit code: the seller's)"),
           N_("text; required with a credit code not registered yet"), "杭州示例乳业有限公司"),
    Column("product", "产品名称", N_("product name"), _text("product"), "纯牛奶"),
    Column("brand", "商标", N_("brand"), _text("brand"), "示例"),
    Column("specification", "规格型号", N_("specification"), _text("specification"), "250mL/盒"),
    Column("lot", "生产批号", N_("production lot"), _text("lot"), "20250301"),
    Column("production_date", "生产日期", N_("production date, not after the sampling date"), DATE,
           date(2025, 3, 1)),
    Column("stage", "抽样环节", N_("sampling stage"),
           N_("production, distribution, catering or online (or 生产 / 流通 / 餐饮 / 网络)"), "distribution"),
    Column("sampling_agency", "抽样单位", N_("sampling agency"), _text("sampling_agency"), "杭州市西湖区市场监督管理局"),
    Column("laboratory", "检验机构", N_("testing laboratory"), _text("laboratory"), "杭州市食品药品检验研究院"),
    Column("report_no", "报告编号", N_("test report number"), _text("report_no"), "BG2025-0001"),
    Column("failed_items", "不合格项目", N_("failed test items"),
           N_("item names separated by ; (empty for a pass)"), ""),
    Column("fail_reason", "不合格原因", N_("why a batch without failed items failed (e.g. refused sampling)"),
           N_("text; a fail needs failed items or a reason, a pass neither"), ""),
)
assert tuple(c.name for c in FILE_COLUMNS) == COLUMNS, "document every column, in the parser's order"
HEADER_ALIASES: dict[str, str] = {c.header_zh: c.name for c in FILE_COLUMNS}
_EXAMPLE_ZH = {"pass": "合格", "distribution": "流通"}


# Headers are matched without their whitespace: Excel wraps a long header onto two lines
# (抽样单 / 编号), Chinese headers are spaced out to align (抽样 日期), and no two headers
# differ by spacing alone. Anything else must match exactly.
_KNOWN = {**{name: name for name in COLUMNS}, **HEADER_ALIASES}


def canonical_header(header: list[str]) -> list[str]:
    """The header with the column names and Chinese headers, spaced as they may be, replaced by
    the column names; other headers are left as written (to be refused by name)."""
    return [_KNOWN.get("".join(h.split()), h) for h in header]


def is_header_row(cells: list[str]) -> bool:
    """Whether a row is the header: it names at least one column. Rows above it (a title, the
    reporting unit) name none."""
    return any("".join(h.split()) in _KNOWN for h in cells)


def headers(chinese: bool) -> list[str]:
    """The import file's header row: its Chinese headers, or its column names."""
    return [c.header_zh if chinese else c.name for c in FILE_COLUMNS]


def template(chinese: bool) -> tuple[list[str], list[str | date]]:
    """The template's header and example row, with Chinese headers and words or English ones."""
    if chinese:
        return (headers(True), [_EXAMPLE_ZH.get(c.example, c.example) if isinstance(c.example, str) else c.example
                                for c in FILE_COLUMNS])
    return headers(False), [c.example for c in FILE_COLUMNS]
