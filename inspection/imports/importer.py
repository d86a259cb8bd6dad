"""Bulk import: validate every row, then store the accepted rows in one transaction.

Fast path by design (target: 20,000 rows/s into a million batches; see bench/README.md):
reference trees are held in memory, existing sample numbers and enterprises are looked up in
a few set queries, rows go straight to the driver (PostgreSQL COPY, SQLite executemany) and
the series aggregate is summed in memory and applied as one bulk upsert.
"""
from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from core.audit import audit
from core.clock import local_today
from core.database import bulk_writes, copy_rows, one_of
from core.models import utcnow
from core.reference.trees import load_trees
from inspection.aggregates import Deltas
from inspection.imports.reader import FileRefused, is_xlsx, read_table
from inspection.imports.rows import COLUMNS, FIELD_TO_COLUMN, REQUIRED, parse_row
from inspection.models import Batch, Enterprise, ImportRun, TestItem
from inspection.services.batches import BATCH_FIELDS, batch_to_data
from inspection.services.enterprises import new_enterprise
from inspection.services.rules import check_batch

Progress = Callable[[int, int], None]
STORED_REJECTIONS = 10_000  # the import run keeps this many; the caller gets them all
BATCH_COLUMNS = (*BATCH_FIELDS, "sample_no", "category_code", "region_code", "enterprise_id", "local",
                 "version", "created_at", "created_by_id", "import_id")
ENTERPRISE_COLUMNS = ("credit_code", "name", "region_code", "blacklisted", "created_at", "created_by_id")


@dataclass
class ImportOptions:
    filename: str
    user_id: int
    atomic: bool = False
    scope: str | None = None  # the importing user's region subtree; None = everywhere
    max_bytes: int = 64 * 1024 * 1024
    max_rows: int = 1_000_000


@dataclass
class _Pending:
    row: int
    data: dict[str, Any]


@dataclass
class ImportResult:
    accepted: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    import_id: int | None = None
    stored: bool = True

    def report(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "unchanged": self.unchanged, "rejected": self.rejected,
                "import_id": self.import_id, "stored": self.stored}

    def reject(self, row: int, column: str, reason: str) -> None:
        self.rejected.append({"row": row, "column": column, "reason": reason})


def comparable(data: dict[str, Any]) -> tuple:
    """What makes two versions of a batch the same record (for 'unchanged' on re-import)."""
    items = tuple(sorted((i.get("item"), i.get("verdict")) for i in data.get("items") or []))
    return (tuple(data.get(f) for f in BATCH_FIELDS), data["category"], data["region"],
            data.get("enterprise_credit_code"), items)


def check_header(header: list[str]) -> None:
    unknown = [h for h in header if h not in COLUMNS]
    if unknown:
        raise FileRefused(f"unknown column(s): {', '.join(unknown)}; allowed: {', '.join(COLUMNS)}")
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise FileRefused(f"missing required column(s): {', '.join(missing)}")
    repeated = sorted({h for h in header if header.count(h) > 1})
    if repeated:
        raise FileRefused(f"column(s) given twice: {', '.join(repeated)}")


def import_batches(session: Session, content: bytes, options: ImportOptions,
                   progress: Progress | None = None) -> ImportResult:
    """Import a CSV/XLSX file; raise FileRefused if the file as a whole cannot be read."""
    with _collector_paused():
        return _import(session, content, options, progress)


@contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the import.

    An import creates millions of small objects that live until it ends; the collector kept
    rescanning them (measured: about a third of the time spent parsing and summing).
    Reference counting still frees everything that is not in a cycle.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _import(session: Session, content: bytes, options: ImportOptions,
            progress: Progress | None) -> ImportResult:
    if len(content) > options.max_bytes:
        raise FileRefused(f"the file is {len(content):,} bytes; the limit is {options.max_bytes:,}")
    header, rows = read_table(content, options.filename)
    check_header(header)
    trees = load_trees(session)
    today = local_today()
    result = ImportResult()
    candidates: dict[str, _Pending] = {}  # sample_no -> first valid row
    width = len(header)
    scope_subtree = trees.regions.subtree(options.scope) if options.scope else None
    estimate = 0 if is_xlsx(content, options.filename) else content.count(b"\n")
    index = -1

    for index, cells in enumerate(rows):
        row_no = index + 2  # row 1 is the header
        if row_no - 1 > options.max_rows:
            raise FileRefused(f"the file has more than {options.max_rows:,} rows; split it")
        if not "".join(cells).strip():
            continue  # blank line
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            result.reject(row_no, "", f"row has {len(cells)} cells but the header has {width} columns")
            continue
        data, problems = parse_row(dict(zip(header, cells)))
        if not problems:
            problems = [(FIELD_TO_COLUMN.get(f, f), reason) for f, reason in check_batch(data, trees, today)]
        if not problems and scope_subtree is not None and data["region"] not in scope_subtree:
            problems = [("region", f"region {data['region']} is outside your region {options.scope}")]
        if problems:
            for column, reason in problems:
                result.reject(row_no, column, reason)
        else:
            seen = candidates.get(data["sample_no"])
            if seen is None:
                candidates[data["sample_no"]] = _Pending(row_no, data)
            elif comparable(seen.data) == comparable(data):
                result.unchanged += 1  # the same row twice in one file
            else:
                result.reject(row_no, "sample_no", f"sample number {data['sample_no']} appears in row "
                                                   f"{seen.row} with different content")
        if progress and index % 5000 == 0:
            progress(index, estimate)
    if progress:
        progress(index + 1, index + 1)

    fresh = _drop_known(session, candidates, result)
    known, new_enterprises = _resolve_enterprises(session, fresh, result, options.user_id)
    result.rejected.sort(key=lambda r: (r["row"], r["column"]))
    if options.atomic and result.rejected:
        result.stored, result.unchanged = False, 0
        return result
    result.accepted = len(fresh)
    _store(session, fresh, known, new_enterprises, result, options, trees, len(content))
    return result


def _drop_known(session: Session, candidates: dict[str, _Pending], result: ImportResult) -> list[_Pending]:
    """Remove rows whose sample number is stored: unchanged if identical, else a conflict."""
    conn = session.connection()
    stored = []  # sample numbers first (from the index alone), whole batches only for those
    for condition in one_of(conn, Batch.sample_no, list(candidates)):
        stored += session.scalars(select(Batch.sample_no).where(condition))
    for condition in one_of(conn, Batch.sample_no, stored):
        for batch in session.scalars(select(Batch).where(condition)):
            pending = candidates.pop(batch.sample_no)
            if batch.voided_at is not None:
                result.reject(pending.row, "sample_no", f"sample number {batch.sample_no} belongs to "
                                                        "a voided batch")
            elif comparable(batch_to_data(batch)) == comparable(pending.data):
                result.unchanged += 1
            else:
                result.reject(pending.row, "sample_no", f"sample number {batch.sample_no} is already "
                                                        "recorded with different content; amend it instead")
    return sorted(candidates.values(), key=lambda p: p.row)


def _resolve_enterprises(session: Session, fresh: list[_Pending], result: ImportResult,
                         user_id: int) -> tuple[dict[str, tuple[int, bool]], dict[str, dict]]:
    """Map known credit codes to (id, local) and collect the enterprises to register.

    Rows naming an unregistered code without a name are rejected.
    """
    codes = sorted({p.data["enterprise_credit_code"] for p in fresh if p.data["enterprise_credit_code"]})
    known: dict[str, tuple[int, bool]] = {}
    for condition in one_of(session.connection(), Enterprise.credit_code, codes):
        for eid, code, region in session.execute(
                select(Enterprise.id, Enterprise.credit_code, Enterprise.region_code).where(condition)):
            known[code] = (eid, region.startswith("33"))
    new: dict[str, dict] = {}
    kept = []
    for pending in fresh:
        code = pending.data["enterprise_credit_code"]
        if code and code not in known and code not in new:
            if not pending.data["enterprise_name"]:
                result.reject(pending.row, "enterprise_name",
                              f"enterprise {code} is not registered; give enterprise_name to register it")
                continue
            e = new_enterprise(code, pending.data["enterprise_name"], user_id)
            new[code] = {"credit_code": code, "name": e.name, "region_code": e.region_code,
                         "blacklisted": False, "created_at": utcnow(), "created_by_id": user_id}
        kept.append(pending)
    fresh[:] = kept
    return known, new


def _store(session: Session, fresh: list[_Pending], known: dict[str, tuple[int, bool]],
           new_enterprises: dict[str, dict], result: ImportResult, options: ImportOptions, trees,
           size: int) -> None:
    run = ImportRun(filename=options.filename[:255], size=size, atomic=options.atomic,
                    created_by_id=options.user_id)
    session.add(run)
    session.flush()
    result.import_id = run.id
    # Straight to the driver on the session's connection (same transaction): the ORM bulk
    # path was 20x slower on a million-row table, Core's parameter handling cost as much as
    # the insert itself.
    conn = session.connection()
    with bulk_writes(conn):
        _write_rows(session, conn, fresh, known, new_enterprises, options.user_id, run.id, trees)
    run.accepted, run.unchanged, run.rejected = result.accepted, result.unchanged, len(result.rejected)
    run.report = {**result.report(), "rejected": result.rejected[:STORED_REJECTIONS]}
    audit(session, options.user_id, "import", "import_run", run.id,
          after={"filename": run.filename, "accepted": run.accepted, "unchanged": run.unchanged,
                 "rejected": run.rejected, "new_enterprises": sorted(new_enterprises)})
    session.commit()


def _write_rows(session: Session, conn: Connection, fresh: list[_Pending],
                known: dict[str, tuple[int, bool]], new_enterprises: dict[str, dict], user_id: int,
                import_id: int, trees) -> None:
    """Insert the enterprises, batches and failed test items, and update the aggregate."""
    if new_enterprises:
        codes = list(new_enterprises)
        copy_rows(conn, Enterprise.__table__, ENTERPRISE_COLUMNS,
                  [tuple(e[c] for c in ENTERPRISE_COLUMNS) for e in new_enterprises.values()])
        for condition in one_of(conn, Enterprise.credit_code, codes):
            for eid, code, region in conn.execute(
                    select(Enterprise.id, Enterprise.credit_code, Enterprise.region_code).where(condition)):
                known[code] = (eid, region.startswith("33"))
    deltas = Deltas(trees)
    batch_rows, failing_items = [], {}
    fixed = (1, utcnow(), user_id, import_id)  # version, created_at, created_by_id, import_id
    for pending in fresh:
        d = pending.data
        code = d["enterprise_credit_code"]
        enterprise_id, local = known[code] if code else (None, False)
        batch_rows.append((*map(d.get, BATCH_FIELDS), d["sample_no"], d["category"], d["region"],
                           enterprise_id, local, *fixed))
        if d["items"]:
            failing_items[d["sample_no"]] = d["items"]
        deltas.add(d["category"], d["region"], d["sampled_on"], local, d["conclusion"] == "fail")
    copy_rows(conn, Batch.__table__, BATCH_COLUMNS, batch_rows)
    if failing_items:
        ids: dict[str, int] = {}
        for condition in one_of(conn, Batch.sample_no, list(failing_items)):
            ids.update((s, i) for i, s in conn.execute(select(Batch.id, Batch.sample_no).where(condition)))
        copy_rows(conn, TestItem.__table__, ("batch_id", "item", "verdict"),
                  [(ids[s], i["item"], i["verdict"]) for s, items in failing_items.items() for i in items])
    deltas.apply(session)
