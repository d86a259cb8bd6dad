"""Turn one file row (strings by column name) into batch input, collecting every problem."""
from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Any

from core.export import FORMULA_STARTS
from core.messages import N_

REQUIRED = ("sample_no", "sampled_on", "category", "region", "result")
OPTIONAL = ("reported_on", "enterprise_credit_code", "enterprise_name", "product", "brand",
            "specification", "lot", "production_date", "stage", "sampling_agency", "laboratory",
            "report_no", "failed_items", "fail_reason")
COLUMNS = REQUIRED + OPTIONAL

# Inspectors' spreadsheets often carry the Chinese terms; both are accepted.
RESULTS = {"pass": "pass", "fail": "fail", "合格": "pass", "不合格": "fail"}
STAGE_WORDS = {"production": "production", "distribution": "distribution", "catering": "catering",
               "online": "online", "生产": "production", "流通": "distribution",
               "餐饮": "catering", "网络": "online"}
# Which file column a rule's field is reported against.
FIELD_TO_COLUMN = {"conclusion": "result", "items": "failed_items", "producer_name": "enterprise_name"}
NOT_A_DATE = N_("'%(text)s' is not a date in YYYY-MM-DD form")
NUL_CHARACTER = N_("contains a NUL character")
COLUMN_REQUIRED = N_("%(field)s is required")
BAD_RESULT = N_("result must be 'pass' or 'fail', got '%(text)s'")
NUMBER_CUT = N_("'%(text)s' is a number the spreadsheet shows in scientific notation, and its last digits "
                "are lost: format the column as text and type the number again")
BAD_STAGE = N_("unknown stage '%(text)s'; use production, distribution, catering or online")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# Year first, as Excel/WPS on a Chinese system write and show dates: 2026/11/3, 2026.11.03,
# 2026-11-3, 2026年11月3日, optionally with a midnight time (a date cell saved as text). Only
# a four-digit year first reads one way: 3/11/2026 may be March or November and is refused.
_YEAR_FIRST = re.compile(r"^(\d{4})(?:([-/.])(\d{1,2})\2(\d{1,2})|年(\d{1,2})月(\d{1,2})日)"
                         r"(?: 0?0:00(?::00)?)?$")
# Full-width ASCII (an input method's full-width mode: ２０２６, ９１３３) is the same characters.
_FULL_WIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}
_ITEM_SPLIT = re.compile(r"[;；]")
# A number the spreadsheet wrote in scientific notation (Excel's CSV of a 12-digit cell:
# 1.23457E+11): its last digits are gone, so it cannot identify a sample, lot or report.
# One digit before the point and a signed exponent, as spreadsheets write it: a code such as
# 26E0001 is not one.
_SCIENTIFIC = re.compile(r"^-?\d(?:\.\d+)?E[+-]\d{2,}$", re.IGNORECASE)
_IDENTIFIERS = ("sample_no", "lot", "report_no", "enterprise_credit_code")
_TEXT_COLUMNS = ("product", "brand", "specification", "lot", "sampling_agency", "laboratory",
                 "report_no", "fail_reason")


@lru_cache(maxsize=4096)
def _iso_date(text: str) -> date | None:
    # Cached: a file holds a few hundred distinct dates in up to a million rows.
    if _ISO_DATE.match(text):
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    match = _YEAR_FIRST.match(text.translate(_FULL_WIDTH))
    if match is None:
        return None
    year, _, *month_day = match.groups()
    month, day = [int(n) for n in month_day if n is not None]
    try:
        return date(int(year), month, day)
    except ValueError:
        return None


def _spaced(words: dict[str, str], text: str) -> str | None:
    """The value of a word spaced out to align in a column (不 合 格, 合  格)."""
    return words.get("".join(text.split()).lower())


def _date(text: str, column: str, problems: list) -> date | None:
    if not text:
        return None
    value = _iso_date(text)
    if value is None:
        problems.append((column, NOT_A_DATE(text=text[:40])))
    return value


def _unescape(cells: dict[str, str]) -> None:
    """Drop the apostrophe an export puts before text a spreadsheet would take for a formula
    (core.export.safe_cell: '-, '=, '+, '@): it marks the cell as text, as typing it does in
    Excel, and is not part of the value, so an exported batch imports back unchanged."""
    for column, value in cells.items():
        if value[:1] == "'" and value[1:2] in FORMULA_STARTS:
            cells[column] = value[1:]


def parse_row(cells: dict[str, str]) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """Return the batch input for a row and the (column, reason) problems found parsing it."""
    problems: list[tuple[str, str]] = []
    joined = "".join(cells.values())
    if "\x00" in joined:  # PostgreSQL cannot store it; refuse the row, not the file
        for column, value in cells.items():
            if "\x00" in value:
                problems.append((column, NUL_CHARACTER))
                cells[column] = value.replace("\x00", "")
    if "'" in joined:
        _unescape(cells)
    text = {column: value.strip() for column, value in cells.items()}
    get = text.get
    for column in REQUIRED:
        if not get(column):
            problems.append((column, COLUMN_REQUIRED(field=column)))
    for column in _IDENTIFIERS:
        value = get(column)
        if value and ("E" in value or "e" in value) and _SCIENTIFIC.match(value):
            problems.append((column, NUMBER_CUT(text=value[:40])))
    result = get("result", "")
    conclusion = RESULTS.get(result.lower())
    if result and conclusion is None:
        conclusion = _spaced(RESULTS, result)
    if result and conclusion is None:
        problems.append(("result", BAD_RESULT(text=result[:40])))
    stage_text = get("stage")
    stage = STAGE_WORDS.get(stage_text.lower()) or _spaced(STAGE_WORDS, stage_text) if stage_text else None
    if stage_text and stage is None:
        problems.append(("stage", BAD_STAGE(text=stage_text[:40])))
    failed_items = get("failed_items")
    items = [{"item": name.strip(), "verdict": "fail"}
             for name in _ITEM_SPLIT.split(failed_items) if name.strip()] if failed_items else []
    code, category, region = get("enterprise_credit_code", ""), get("category", ""), get("region", "")
    if not (code.isascii() and category.isascii() and region.isascii()):  # full-width: the same code
        code, category, region = (v.translate(_FULL_WIDTH) for v in (code, category, region))
    code = code.upper() or None
    name = get("enterprise_name") or None
    data: dict[str, Any] = {
        "sample_no": get("sample_no", ""),
        "sampled_on": _date(get("sampled_on"), "sampled_on", problems),
        "reported_on": _date(get("reported_on"), "reported_on", problems),
        "production_date": _date(get("production_date"), "production_date", problems),
        "category": category,
        "region": region,
        "conclusion": conclusion,
        "stage": stage,
        "enterprise_credit_code": code,
        "enterprise_name": name,
        "producer_name": None if code else name,
        "items": items,
    }
    for column in _TEXT_COLUMNS:
        data[column] = get(column) or None
    return data, problems
