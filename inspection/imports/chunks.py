"""Read, parse and check a file's rows in chunks: the part of an import that needs no database.

It runs in the importing process for small files, and in a forked child for large ones
(`worker.forked`) while the importer writes the previous chunks. What it yields is kept
compact (tuples of plain values) because a child sends it pickled.

It also sums the series aggregate of every row that passed, spread to all ancestor series,
as if each were stored with the enterprise its credit code names registered in the code's
region: the importer only corrects the few rows where that does not hold (rows it rejects
or finds unchanged, enterprises registered elsewhere). Spreading a hundred thousand rows to
their ancestors cost the writing process a tenth of its time.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Iterator

from sqlalchemy.engine import Dialect

from core.auth.permissions import OUTSIDE_REGION
from core.clock import month_of
from core.database import row_binder
from core.messages import N_
from core.reference.trees import Trees
from inspection.aggregates import Key, binder, spread
from inspection.credit_code import region_of
from inspection.imports.columns import HEADER_ALIASES, canonical_header, is_header_row
from inspection.imports.reader import FileRefused, read_table
from inspection.imports.rows import COLUMNS, FIELD_TO_COLUMN, REQUIRED, parse_row
from inspection.models import Batch
from inspection.services.batches import BATCH_FIELDS
from inspection.services.rules import check_batch

CHUNK_ROWS = 2000
UNKNOWN_COLUMNS = N_("unknown column(s): %(unknown)s; allowed: %(allowed)s, or in Chinese: %(chinese)s")
MISSING_COLUMNS = N_("missing required column(s): %(missing)s")
REPEATED_COLUMNS = N_("column(s) given twice: %(repeated)s")
TOO_MANY_ROWS = N_("the file has more than %(max_rows)s rows; split it")
TOO_MANY_CELLS = N_("row has %(cells)s cells but the header has %(width)s columns")
UNHEADED_VALUE = N_("column %(column)s has no header but this row has a value in it; "
                    "give the column a header or empty it")
_month = lru_cache(maxsize=4096)(month_of)

# A row that passed every check on its own, as
# (row number, sample_no, credit code, enterprise name, failed item names,
#  values of CONTENT_COLUMNS in that order converted for the database (`row_binder`),
#  series key counted for it)
Parsed = tuple[int, str, "str | None", "str | None", tuple[str, ...], tuple, Key]
ROW, SAMPLE_NO, CODE, NAME, ITEMS, VALUES, KEY = range(7)
CONTENT_COLUMNS = (*BATCH_FIELDS, "sample_no", "category_code", "region_code")
FAILED = BATCH_FIELDS.index("conclusion")
# (rows read so far, rejections as (row, column, reason), rows that passed, and in the last
#  chunk only: the series aggregate of every row that passed, as `aggregates.spread()` converted
#  by `aggregates.binder`, and the file's headers by column name)
Chunk = tuple[int, list[tuple[int, str, str]], list[Parsed], "list[tuple] | None", "dict[str, str] | None"]


def counted_local(code: str | None) -> bool:
    """Whether a batch of this credit code is counted as local, before its enterprise is known."""
    return region_of(code).startswith("33") if code else False


@dataclass(frozen=True)
class Limits:
    filename: str
    max_rows: int
    scope: str | None  # the importing user's region subtree; None = everywhere
    today: date


def column_letter(index: int) -> str:
    """A 0-based column index as the spreadsheet names the column (0 -> A, 26 -> AA)."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def check_header(header: list[str]) -> None:
    """Refuse a header naming a column twice, an unknown one, or none of a required one
    (`header` holds column names: Chinese headers already mapped by `canonical_header`)."""
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise FileRefused(UNKNOWN_COLUMNS(unknown=unknown, allowed=COLUMNS, chinese=list(HEADER_ALIASES)))
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileRefused(MISSING_COLUMNS(missing=missing))
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise FileRefused(REPEATED_COLUMNS(repeated=repeated))


def parse_file(content: bytes, limits: Limits, trees: Trees, dialect: Dialect) -> Iterator[Chunk]:
    """Yield the file's rows chunk by chunk; raise FileRefused if the file cannot be imported.

    Values come converted for `dialect`'s driver, as the importer inserts them.
    """
    bind = row_binder(dialect, Batch.__table__, CONTENT_COLUMNS)
    written, header_row, rows = read_table(content, limits.filename, is_header_row)
    header = canonical_header(written)
    # Columns without a header (column A left empty as a margin, a spacer between two) are
    # allowed while they stay empty: a value there belongs to no column, so its row is rejected.
    unheaded = [i for i, h in enumerate(header) if not h]
    check_header([h for h in header if h])
    width = len(header)
    scope_subtree = trees.regions.subtree(limits.scope) if limits.scope else None
    today, max_rows = limits.today, limits.max_rows
    rejected: list[tuple[int, str, str]] = []
    passed: list[Parsed] = []
    keys: dict[Key, Key] = {}  # one object per key: pickled once per chunk
    common: dict[str, str] = {}
    counted: Counter = Counter()
    failed: Counter = Counter()
    index = -1
    for index, cells in enumerate(rows):
        row_no = index + header_row + 1  # as the spreadsheet numbers it (title rows above the header)
        if index >= max_rows:
            raise FileRefused(TOO_MANY_ROWS(max_rows=f"{max_rows:,}"))
        if index and not index % CHUNK_ROWS:
            _count(passed, counted, failed)
            yield index, rejected, passed, None, None
            rejected, passed = [], []
        if not "".join(cells).strip():
            continue  # blank line
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            rejected.append((row_no, "", TOO_MANY_CELLS(cells=len(cells), width=width)))
            continue
        if unheaded and any(cells[i].strip() for i in unheaded if i < len(cells)):
            first = next(i for i in unheaded if i < len(cells) and cells[i].strip())
            rejected.append((row_no, "", UNHEADED_VALUE(column=column_letter(first))))
            continue
        data, problems = parse_row(dict(zip(header, cells)))
        broken = check_batch(data, trees, today)
        if problems or broken:  # rare: gather all of the row's problems
            problems = _every_problem(problems, broken, data, scope_subtree, limits.scope)
        elif scope_subtree is not None and data["region"] not in scope_subtree:
            problems = [("region", OUTSIDE_REGION(region=data["region"], scope=limits.scope))]
        if problems:
            rejected.extend((row_no, column, reason) for column, reason in problems)
        else:
            for column in _REPEATING:  # one object per value: pickled and unpickled once per chunk
                value = data[column]
                if value is not None:
                    data[column] = common.setdefault(value, value)
            code = data["enterprise_credit_code"]
            key = (data["category"], data["region"], _month(data["sampled_on"]), counted_local(code))
            passed.append((row_no, data["sample_no"], code, data["enterprise_name"],
                           tuple(i["item"] for i in data["items"]), bind(list(map(data.get, _CONTENT_KEYS))),
                           keys.setdefault(key, key)))
    _count(passed, counted, failed)
    bind_series = binder(dialect)
    aggregate = spread(trees, list(counted), list(counted.values()), [failed[key] for key in counted])
    # The headers as the file wrote them, so a report can name a column as its sender knows it.
    yield index + 1, rejected, passed, [bind_series(row) for row in aggregate], {h: w for h, w in zip(header, written) if h}


_CONTENT_KEYS = (*BATCH_FIELDS, "sample_no", "category", "region")
# Texts that repeat from row to row (codes, names, places, products), not the per-sample ones.
_REPEATING = ("category", "region", "enterprise_credit_code", "enterprise_name", "producer_name", "product",
              "brand", "specification", "sampling_agency", "laboratory", "fail_reason")


def _every_problem(problems: list[tuple[str, str]], broken: list[tuple[str, str]], data: dict,
                   scope_subtree: frozenset[str] | None, scope: str | None) -> list[tuple[str, str]]:
    """A bad row's problems as (column, reason): the parser's, the rules' (`broken`, by field)
    and the scope's, so one pass reports all of them (an inspector once fixed a date,
    re-imported, and only then learnt that the category was wrong too).

    A column the parser already faulted is left out of the rules: its value is missing or
    unusable there, and a rule would only repeat the fault in other words ("not a date",
    then "sampling date is required"). Rules comparing it with another column are skipped by
    `check_batch` itself, which sees None. The scope is checked only for a known region.
    """
    faulted = {column for column, _ in problems}
    problems = problems + [(column, reason) for column, reason in
                           ((FIELD_TO_COLUMN.get(f, f), reason) for f, reason in broken)
                           if column not in faulted]
    problems = list(dict.fromkeys(problems))  # two fields reported on one column, for one reason
    if (scope_subtree is not None and "region" not in {column for column, _ in problems}
            and data["region"] not in scope_subtree):
        problems.append(("region", OUTSIDE_REGION(region=data["region"], scope=scope)))
    return problems


def _count(passed: list[Parsed], counted: Counter, failed: Counter) -> None:
    counted.update([row[KEY] for row in passed])  # Counter.update counts a list in C
    failed.update([row[KEY] for row in passed if row[VALUES][FAILED] == "fail"])
