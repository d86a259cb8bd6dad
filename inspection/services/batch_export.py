"""The batch list as a file in the bulk import's columns, to edit and import back.

The batches are those `list_batches` shows for the same filter and scope, in its order, read
page by page through its keyset cursor (never OFFSET, never every row at once), so an export
costs what paging through the list costs. A file holds at most `max_rows` batches: more are
refused before anything is read, never cut short, since a report built from a silently
shortened file would be wrong without anyone knowing.

Each row is what the importer reads back as the same batch (`rows.parse_row`), so importing an
exported file again reports every row `unchanged`: codes (not names) for category and region,
dates as dates (ISO text in CSV, date cells in XLSX), the failed items' names joined by `;`,
the producer's credit code and name, or for farm produce without a code the seller's name.
What a file row cannot hold is left out: passing test items, and values, units, limits and
standards of the failed ones.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterator

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.errors import ValidationFailed
from core.messages import N_
from inspection.imports.columns import headers
from inspection.imports.rows import COLUMNS, RESULTS, STAGE_WORDS
from inspection.models import Batch
from inspection.services.queries import BatchFilter, check_dates, filtered, list_batches

PAGE_ROWS = 1000  # batches read per keyset page
TOO_MANY = N_("more than %(limit)s batches match these filters, and an export holds at most %(limit)s: "
              "narrow the sampling dates or the region")
ITEM_SEPARATOR = ";"  # what the importer splits `failed_items` on

# The Chinese words the importer takes for results and stages, for a file with Chinese headers.
CHINESE_WORDS = {value: word for words in (RESULTS, STAGE_WORDS) for word, value in words.items()
                 if not word.isascii()}


def _producer(batch: Batch) -> tuple[str | None, str | None]:
    if batch.enterprise is not None:
        return batch.enterprise.credit_code, batch.enterprise.name
    return None, batch.producer_name


def _failed_items(batch: Batch) -> str | None:
    return ITEM_SEPARATOR.join(i.item for i in batch.items if i.verdict == "fail") or None


_CELLS: dict[str, Callable[[Batch], Any]] = {
    "sample_no": lambda b: b.sample_no,
    "sampled_on": lambda b: b.sampled_on,
    "category": lambda b: b.category_code,
    "region": lambda b: b.region_code,
    "result": lambda b: b.conclusion,
    "reported_on": lambda b: b.reported_on,
    "enterprise_credit_code": lambda b: _producer(b)[0],
    "enterprise_name": lambda b: _producer(b)[1],
    "product": lambda b: b.product,
    "brand": lambda b: b.brand,
    "specification": lambda b: b.specification,
    "lot": lambda b: b.lot,
    "production_date": lambda b: b.production_date,
    "stage": lambda b: b.stage,
    "sampling_agency": lambda b: b.sampling_agency,
    "laboratory": lambda b: b.laboratory,
    "report_no": lambda b: b.report_no,
    "failed_items": _failed_items,
    "fail_reason": lambda b: b.fail_reason,
}
assert tuple(_CELLS) == COLUMNS, "one cell per import column, in the importer's order"
_WORDED = ("result", "stage")  # the columns written in Chinese words under Chinese headers


@dataclass
class BatchExport:
    header: list[str]
    rows: Iterator[list[Any]]  # read lazily, page by page, as the file is written


def export_row(batch: Batch, chinese: bool = False) -> list[Any]:
    """One batch as a file row, in the import columns' order (None: an empty cell)."""
    row = {name: cell(batch) for name, cell in _CELLS.items()}
    if chinese:
        for name in _WORDED:
            row[name] = CHINESE_WORDS.get(row[name], row[name])
    return list(row.values())


def export_batches(session: Session, f: BatchFilter, scope_region: str | None,
                   max_rows: int, chinese: bool = False) -> BatchExport:
    """The batches the list shows for `f` within `scope_region`, as import-file rows.

    Raises ValidationFailed (422) for a filter the list refuses, or when more than `max_rows`
    batches match; this is decided here, before any row is read. The rows are read when
    iterated (within the request: they need the session)."""
    check_dates(f)  # before the count, which runs ahead of the list
    if _matching(session, f, scope_region, max_rows + 1) > max_rows:
        raise _too_many(max_rows)
    return BatchExport(headers(chinese), _rows(session, f, scope_region, max_rows, chinese))


def _matching(session: Session, f: BatchFilter, scope_region: str | None, at_most: int) -> int:
    """How many batches match, counting no further than `at_most`: the count reads that many
    ids at most, so asking about a province of 20 million batches costs what 50,001 do."""
    ids = filtered(session, f, scope_region).with_only_columns(Batch.id).limit(at_most).subquery()
    return session.scalar(select(func.count()).select_from(ids))


def _too_many(max_rows: int) -> ValidationFailed:
    message = TOO_MANY(limit=f"{max_rows:,}")
    # Named on the filters that narrow an export the most, for a client to show beside them.
    return ValidationFailed(message, {"sampled_from": [message], "region": [message]})


def _rows(session: Session, f: BatchFilter, scope_region: str | None, max_rows: int,
          chinese: bool) -> Iterator[list[Any]]:
    cursor, read = None, 0
    while True:  # in the list's own order, newest first
        page, cursor = list_batches(session, f, "-sampled_on", PAGE_ROWS, cursor, scope_region)
        read += len(page)
        if read > max_rows:
            # Batches recorded since the count pushed it over: refuse rather than cut the file.
            raise _too_many(max_rows)
        for batch in page:
            yield export_row(batch, chinese)
        if cursor is None:
            return
