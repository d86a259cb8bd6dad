"""An import report as the pages show it: each column under the header the user's file gave it.

The importer reports columns by name (`sampled_on`), which the API keeps; a file written from
the Chinese template says 抽样日期, and the person fixing it looks for that header. Reasons
that name their own column ("sample_no is required") name it the same way.
"""
from __future__ import annotations

from typing import Any, Callable

from flask_babel import format_decimal

from core.messages import Message, recognise
from inspection.imports.columns import FILE_COLUMNS
from web.i18n import is_english

CHINESE = {c.name: c.header_zh for c in FILE_COLUMNS}
SHOWN = 1000  # the report lists this many problems (batches/_report.html)
# Message parameters that hold the column the problem is reported on (rows.COLUMN_REQUIRED,
# importer.UNREGISTERED); other parameters are the file's values and stay as written.
COLUMN_PARAMS = ("field", "column")


def shown_report(report: dict[str, Any] | None) -> dict[str, Any] | None:
    """The report with its listed problems' columns (and the reasons naming them) as the file named them."""
    if not report or not report.get("rejected"):
        return report
    header = _header_of(report.get("headers"))
    rejected = report["rejected"]
    return {**report, "rejected": [{**r, "column": header(r["column"]), "reason": _reason(r, header)}
                                   for r in rejected[:SHOWN]] + rejected[SHOWN:]}


def _header_of(headers: dict[str, str] | None) -> Callable[[str], str]:
    if headers is None:
        # A report kept from before reports carried the file's headers: the page's language decides.
        chinese = not is_english()
    else:
        # A column the file lacks (a rule about a missing value) is named in the form the file used.
        chinese = any(written != name for name, written in headers.items())
    fallback = CHINESE if chinese else {}
    return lambda name: (headers or {}).get(name) or fallback.get(name, name)


def _reason(problem: dict[str, Any], header: Callable[[str], str]) -> Any:
    column, reason = problem["column"], problem["reason"]
    message = recognise(str(reason)) if not isinstance(reason, Message) else reason
    if message is None or header(column) == column:
        return reason
    named = {k: v for k, v in message.params.items() if k in COLUMN_PARAMS and v == column}
    if not named:
        return reason
    return Message(message.template, {**message.params, **{k: header(column) for k in named}})


def file_size(size: int) -> str:
    """A size limit in the units it is set in (MB of 1,048,576 bytes): IMPORT_ASYNC_BYTES is
    2 * 1024 * 1024, which Jinja's filesizeformat calls "2.1 MB"."""
    unit, name = (2 ** 20, "MB") if size >= 2 ** 20 else (2 ** 10, "KB")
    return f"{format_decimal(round(size / unit, 1))} {name}"
