"""Read, parse and check a file's rows in chunks: the part of an import that needs no database.

It runs in the importing process for small files, and in a forked child for large ones
(`worker.forked`) while the importer writes the previous chunks. What it yields is kept
compact (tuples of plain values) because a child sends it pickled.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Iterator

from core.auth.permissions import OUTSIDE_REGION
from core.clock import month_of
from core.messages import N_
from core.reference.trees import Trees
from inspection.imports.reader import FileRefused, read_table
from inspection.imports.rows import COLUMNS, FIELD_TO_COLUMN, REQUIRED, parse_row
from inspection.services.batches import BATCH_FIELDS
from inspection.services.rules import check_batch

CHUNK_ROWS = 2000
UNKNOWN_COLUMNS = N_("unknown column(s): %(unknown)s; allowed: %(allowed)s")
MISSING_COLUMNS = N_("missing required column(s): %(missing)s")
REPEATED_COLUMNS = N_("column(s) given twice: %(repeated)s")
TOO_MANY_ROWS = N_("the file has more than %(max_rows)s rows; split it")
TOO_MANY_CELLS = N_("row has %(cells)s cells but the header has %(width)s columns")
_month = lru_cache(maxsize=4096)(month_of)

# A row that passed every check on its own, as
# (row number, sample_no, category, region, credit code, enterprise name, failed item names,
#  values of BATCH_FIELDS in that order, month sampled "YYYY-MM")
Parsed = tuple[int, str, str, str, "str | None", "str | None", tuple[str, ...], tuple, str]
# (rows read so far, rejections as (row, column, reason), rows that passed)
Chunk = tuple[int, list[tuple[int, str, str]], list[Parsed]]


@dataclass(frozen=True)
class Limits:
    filename: str
    max_rows: int
    scope: str | None  # the importing user's region subtree; None = everywhere
    today: date


def check_header(header: list[str]) -> None:
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise FileRefused(UNKNOWN_COLUMNS(unknown=unknown, allowed=COLUMNS))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileRefused(MISSING_COLUMNS(missing=missing))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise FileRefused(REPEATED_COLUMNS(repeated=repeated))


def parse_file(content: bytes, limits: Limits, trees: Trees) -> Iterator[Chunk]:
    """Yield the file's rows chunk by chunk; raise FileRefused if the file cannot be imported."""
    header, rows = read_table(content, limits.filename)
    check_header(header)
    width = len(header)
    scope_subtree = trees.regions.subtree(limits.scope) if limits.scope else None
    today, max_rows = limits.today, limits.max_rows
    rejected: list[tuple[int, str, str]] = []
    passed: list[Parsed] = []
    index = -1
    for index, cells in enumerate(rows):
        row_no = index + 2  # row 1 is the header
        if index >= max_rows:
            raise FileRefused(TOO_MANY_ROWS(max_rows=f"{max_rows:,}"))
        if index and not index % CHUNK_ROWS:
            yield index, rejected, passed
            rejected, passed = [], []
        if not "".join(cells).strip():
            continue  # blank line
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            rejected.append((row_no, "", TOO_MANY_CELLS(cells=len(cells), width=width)))
            continue
        data, problems = parse_row(dict(zip(header, cells)))
        if not problems:
            problems = [(FIELD_TO_COLUMN.get(f, f), reason) for f, reason in check_batch(data, trees, today)]
        if not problems and scope_subtree is not None and data["region"] not in scope_subtree:
            problems = [("region", OUTSIDE_REGION(region=data["region"], scope=limits.scope))]
        if problems:
            rejected.extend((row_no, column, reason) for column, reason in problems)
        else:
            passed.append((row_no, data["sample_no"], data["category"], data["region"],
                           data["enterprise_credit_code"], data["enterprise_name"],
                           tuple(i["item"] for i in data["items"]), tuple(map(data.get, BATCH_FIELDS)),
                           _month(data["sampled_on"])))
    yield index + 1, rejected, passed
