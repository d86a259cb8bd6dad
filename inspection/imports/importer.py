"""Bulk import: validate every row, then store the accepted rows in one transaction.

Fast path by design (target: 20,000 rows/s into a million batches; see bench/README.md):
reference trees are held in memory, existing sample numbers and enterprises are looked up in
a few set queries per chunk of rows, rows go straight to the driver (PostgreSQL COPY, SQLite
executemany) and the series aggregate is summed in memory and applied as one bulk upsert.
Large files are parsed and checked in a forked child process (`chunks.parse_file`), which
also sums the aggregate, while this process looks up, and writes, the chunks the child has
already sent: this process is the critical path, so it does only what needs the database.
"""
from __future__ import annotations

import gc
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from sqlalchemy import select
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session

from core.audit import audit
from core.clock import local_today
from core.database import bulk_writes, copy_rows, one_of, row_binder, select_in
from core.messages import N_
from core.models import utcnow
from core.reference.trees import Trees, load_trees
from inspection.aggregates import Deltas
from inspection.imports.chunks import (CODE, CONTENT_COLUMNS, FAILED, ITEMS, KEY, NAME, ROW, SAMPLE_NO,
                                       VALUES, Chunk, Limits, Parsed, parse_file)
from inspection.imports.reader import FileRefused, is_xlsx
from inspection.imports.worker import can_fork, forked
from inspection.models import Batch, Enterprise, ImportRun, TestItem
from inspection.services.batches import BATCH_FIELDS, batch_to_data
from inspection.services.enterprises import enterprise_values

Progress = Callable[[int, int], None]
PARALLEL_BYTES = 1_000_000  # the IMPORT_PARALLEL_BYTES setting's default
TOO_BIG = N_("the file is %(size)s bytes; the limit is %(limit)s")
REPEATED_SAMPLE = N_("sample number %(sample_no)s appears in row %(row)s with different content")
VOIDED_SAMPLE = N_("sample number %(sample_no)s belongs to a voided batch")
RECORDED_SAMPLE = N_("sample number %(sample_no)s is already recorded with different content; amend it instead")
# The column is a parameter so that a page can name it as the file did (the API keeps the name).
UNREGISTERED = N_("enterprise %(code)s is not registered; give %(column)s to register it")
STORED_REJECTIONS = 10_000  # the import run keeps this many; the caller gets them all
BATCH_COLUMNS = (*CONTENT_COLUMNS, "enterprise_id", "local", "version", "created_at", "created_by_id",
                 "import_id")
ENTERPRISE_COLUMNS = ("credit_code", "name", "region_code", "blacklisted", "created_at", "created_by_id")
ENTERPRISE_KEYS = (Enterprise.id, Enterprise.credit_code, Enterprise.region_code)


@dataclass
class ImportOptions:
    filename: str
    user_id: int
    atomic: bool = False
    scope: str | None = None  # the importing user's region subtree; None = everywhere
    max_bytes: int = 64 * 1024 * 1024
    max_rows: int = 1_000_000
    # Files from this size on are parsed in a forked child process (IMPORT_PARALLEL_BYTES);
    # below it, forking costs more than it saves. Negative: never.
    parallel_bytes: int = PARALLEL_BYTES


@dataclass
class ImportResult:
    accepted: int = 0
    unchanged: int = 0
    rejected: list[dict[str, Any]] = field(default_factory=list)
    import_id: int | None = None
    stored: bool = True
    headers: dict[str, str] = field(default_factory=dict)  # column name -> the file's header for it

    @property
    def rejected_rows(self) -> int:
        """How many rows were rejected: `rejected` lists problems, and a row may have several."""
        return len({r["row"] for r in self.rejected})

    def report(self) -> dict[str, Any]:
        return {"accepted": self.accepted, "unchanged": self.unchanged, "rejected_rows": self.rejected_rows,
                "rejected": self.rejected, "import_id": self.import_id, "stored": self.stored,
                "headers": self.headers}

    def reject(self, row: int, column: str, reason: str) -> None:
        self.rejected.append({"row": row, "column": column, "reason": reason})


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
        raise FileRefused(TOO_BIG(size=f"{len(content):,}", limit=f"{options.max_bytes:,}"))
    trees = load_trees(session)
    dialect = session.get_bind().dialect
    limits = Limits(options.filename, options.max_rows, options.scope, local_today())
    estimate = 0 if is_xlsx(content, options.filename) else content.count(b"\n")
    result = ImportResult()
    accepting = _Accepting(session, result, options.user_id)
    # Rows are written chunk by chunk as they are accepted, except in atomic mode (nothing is
    # written unless every row passes) and on SQLite when progress is reported: a job
    # reports it through another connection, which would wait for this one's write lock.
    early = not options.atomic and (progress is None or session.get_bind().dialect.name != "sqlite")
    with ExitStack() as stack:
        store = _Store(session, options, trees, len(content), stack)
        try:
            held: list[Parsed] = []
            read = 0
            chunks = stack.enter_context(_chunks(content, limits, trees, options, dialect))
            for read, rejected, passed, spread, headers in chunks:
                if spread is not None:  # the last chunk
                    store.spread, result.headers = spread, headers
                result.rejected += [{"row": r, "column": c, "reason": why} for r, c, why in rejected]
                fresh = accepting.accept(passed)
                if early:
                    store.write(fresh, accepting.uncounted(), accepting.known, accepting.take_new())
                else:
                    held += fresh
                if progress:
                    progress(read, estimate)
            if progress:
                progress(read, read)
            result.rejected.sort(key=lambda r: (r["row"], r["column"]))
            if options.atomic and result.rejected:
                result.stored, result.unchanged = False, 0
                return result
            store.write(held, accepting.uncounted(), accepting.known, accepting.take_new())
            result.accepted = accepting.accepted
            store.finish(result, accepting.registered)
        except BaseException:
            if store.run is not None:
                session.rollback()  # rows of earlier chunks are written: undo them
            raise
    return result


@contextmanager
def _chunks(content: bytes, limits: Limits, trees: Trees, options: ImportOptions,
            dialect: Dialect) -> Iterator[Iterator[Chunk]]:
    """The file's chunks, parsed in a forked child process when the file is large enough."""
    def produce() -> Iterator[Chunk]:
        return parse_file(content, limits, trees, dialect)

    if 0 <= options.parallel_bytes <= len(content) and can_fork():
        with forked(produce) as chunks:
            yield chunks
    else:
        yield produce()


def _content(row: Parsed) -> tuple:
    """What makes two versions of a batch the same record (for 'unchanged' on re-import)."""
    return row[VALUES], row[CODE], tuple(sorted((item, "fail") for item in row[ITEMS]))


def _stored_content(batch: Batch, bind: Callable[[list], tuple]) -> tuple:
    """`_content()` of a stored batch, its values converted as the parser converts a row's."""
    data = batch_to_data(batch)
    values = bind([*map(data.get, BATCH_FIELDS), data["sample_no"], data["category"], data["region"]])
    items = tuple(sorted((i["item"], i["verdict"]) for i in data["items"]))
    return values, data["enterprise_credit_code"], items


class _Accepting:
    """Decides, chunk by chunk, which rows that passed their own checks are stored.

    A sample number seen earlier in the file makes a row unchanged (same content) or
    rejected; a stored one makes it unchanged or a conflict; an unregistered credit code
    without an enterprise name rejects it.
    """

    def __init__(self, session: Session, result: ImportResult, user_id: int):
        self.session, self.result, self.user_id = session, result, user_id
        self.bind = row_binder(session.get_bind().dialect, Batch.__table__, CONTENT_COLUMNS)
        self.seen: dict[str, Parsed] = {}  # sample_no -> first row that passed
        self.known: dict[str, tuple[int, bool]] = {}  # credit code -> (enterprise id, local)
        self.looked_up: set[str] = set()
        self.new: dict[str, dict] = {}  # enterprises to register, not written yet
        self.registered: list[str] = []
        self.dropped: list[Parsed] = []  # rows that passed their own checks but are not stored
        self.accepted = 0

    def uncounted(self) -> list[Parsed]:
        """The rows dropped since the last call (the parser counted them in the aggregate)."""
        dropped, self.dropped = self.dropped, []
        return dropped

    def take_new(self) -> dict[str, dict]:
        """The enterprises to register collected since the last call."""
        new, self.new = self.new, {}
        return new

    def accept(self, passed: list[Parsed]) -> list[Parsed]:
        seen = self.seen
        candidates = {row[SAMPLE_NO]: row for row in passed}
        if len(candidates) == len(passed) and seen.keys().isdisjoint(candidates):
            seen.update(candidates)  # no sample number twice (the usual case): set operations in C
        else:
            candidates = self._first_seen(passed)
        fresh = self._with_enterprise(self._drop_known(candidates))
        self.accepted += len(fresh)
        return fresh

    def _first_seen(self, passed: list[Parsed]) -> dict[str, Parsed]:
        """The rows whose sample number is new in the file; the others are unchanged or rejected."""
        candidates: dict[str, Parsed] = {}
        seen = self.seen
        for row in passed:
            first = seen.setdefault(row[SAMPLE_NO], row)
            if first is row:
                candidates[row[SAMPLE_NO]] = row
                continue
            self.dropped.append(row)
            if _content(first) == _content(row):
                self.result.unchanged += 1  # the same row twice in one file
            else:
                self.result.reject(row[ROW], "sample_no",
                                   REPEATED_SAMPLE(sample_no=row[SAMPLE_NO], row=first[ROW]))
        return candidates

    def _drop_known(self, candidates: dict[str, Parsed]) -> list[Parsed]:
        """Remove rows whose sample number is stored: unchanged if identical, else a conflict."""
        session, result = self.session, self.result
        conn = session.connection()
        # Sample numbers first (from the index alone), whole batches only for those.
        stored = [s for s, in select_in(conn, (Batch.sample_no,), Batch.sample_no, list(candidates))]
        for condition in one_of(conn, Batch.sample_no, stored):
            for batch in session.scalars(select(Batch).where(condition)):
                row = candidates.pop(batch.sample_no)
                self.dropped.append(row)
                if batch.voided_at is not None:
                    result.reject(row[ROW], "sample_no", VOIDED_SAMPLE(sample_no=batch.sample_no))
                elif _stored_content(batch, self.bind) == _content(row):
                    result.unchanged += 1
                else:
                    result.reject(row[ROW], "sample_no", RECORDED_SAMPLE(sample_no=batch.sample_no))
        return list(candidates.values())  # in row order

    def _with_enterprise(self, fresh: list[Parsed]) -> list[Parsed]:
        """Look up the credit codes not seen yet; collect the enterprises to register.

        Rows naming an unregistered code without a name are rejected.
        """
        named = {row[CODE] for row in fresh}
        named.discard(None)
        codes = sorted(named - self.known.keys() - self.looked_up)
        self.looked_up.update(codes)
        conn = self.session.connection()
        for eid, code, region in select_in(conn, ENTERPRISE_KEYS, Enterprise.credit_code, codes):
            self.known[code] = (eid, region.startswith("33"))
        unknown = named - self.known.keys() - self.new.keys()
        if not unknown:
            return fresh
        # The first row naming a code registers it; rows before it without a name are rejected.
        # Only the rows of unknown codes are walked: most rows name a known enterprise.
        rejected = set()
        for row in [row for row in fresh if row[CODE] in unknown]:
            code = row[CODE]
            if code in self.new:
                continue
            if not row[NAME]:
                rejected.add(row[ROW])
                self.dropped.append(row)
                self.result.reject(row[ROW], "enterprise_name", UNREGISTERED(code=code, column="enterprise_name"))
                continue
            self.new[code] = {**enterprise_values(code, row[NAME]), "blacklisted": False,
                              "created_at": utcnow(), "created_by_id": self.user_id}
            self.registered.append(code)
        return [row for row in fresh if row[ROW] not in rejected] if rejected else fresh


class _Store:
    """Writes accepted rows in the import's transaction; the run record and aggregate at the end."""

    def __init__(self, session: Session, options: ImportOptions, trees: Trees, size: int, stack: ExitStack):
        self.session, self.options, self.size, self.stack = session, options, size, stack
        self.spread: list[tuple] | None = None  # the parser's aggregate of every row that passed
        self.corrections = Deltas(trees)  # what makes it the aggregate of the rows stored
        self.failing: dict[str, tuple[str, ...]] = {}  # sample_no -> failed item names
        self.run: ImportRun | None = None

    def _begin(self) -> None:
        options = self.options
        self.run = ImportRun(filename=options.filename[:255], size=self.size, atomic=options.atomic,
                             created_by_id=options.user_id)
        self.session.add(self.run)
        self.session.flush()
        # Straight to the driver on the session's connection (same transaction): the ORM bulk
        # path was 20x slower on a million-row table, Core's parameter handling cost as much
        # as the insert itself.
        self.conn = self.session.connection()
        self.stack.enter_context(bulk_writes(self.conn))
        # Rows come converted from the parser; the columns added here are converted once.
        bind = row_binder(self.conn.dialect, Batch.__table__, BATCH_COLUMNS[-5:])
        fixed = (1, utcnow(), options.user_id, self.run.id)
        self.fixed = bind((False, *fixed))[1:]
        self.local = {flag: bind((flag, *fixed))[0] for flag in (False, True)}

    def write(self, fresh: list[Parsed], dropped: list[Parsed], known: dict[str, tuple[int, bool]],
              new: dict[str, dict]) -> None:
        """Insert the enterprises to register (`new`) and the batches (`fresh`), which name
        enterprises in `known` or `new`; uncount the `dropped` rows from the aggregate."""
        if self.run is None:
            self._begin()
        conn, add = self.conn, self.corrections.add_key
        for row in dropped:
            add(row[KEY], row[VALUES][FAILED] == "fail", -1)
        if new:
            copy_rows(conn, Enterprise.__table__, ENTERPRISE_COLUMNS,
                      [tuple(e[c] for c in ENTERPRISE_COLUMNS) for e in new.values()])
            for eid, code, region in select_in(conn, ENTERPRISE_KEYS, Enterprise.credit_code, list(new)):
                known[code] = (eid, region.startswith("33"))
        fixed, bound_local, failing, batch_rows = self.fixed, self.local, self.failing, []
        for _, sample_no, code, _, items, values, key in fresh:
            enterprise_id, local = known[code] if code else (None, False)
            batch_rows.append((*values, enterprise_id, bound_local[local], *fixed))
            if items:
                failing[sample_no] = items
            if local != key[3]:  # counted with the code's region; the enterprise is elsewhere
                failed = values[FAILED] == "fail"
                add(key, failed, -1)
                add((*key[:3], local), failed)
        if batch_rows:
            copy_rows(conn, Batch.__table__, BATCH_COLUMNS, batch_rows, bound=True)

    def finish(self, result: ImportResult, registered: list[str]) -> None:
        """Insert the failed test items, apply the aggregate, record the run and commit."""
        if self.run is None:
            self._begin()
        conn, run, session = self.conn, self.run, self.session
        result.import_id = run.id
        if self.failing:
            ids = dict(select_in(conn, (Batch.sample_no, Batch.id), Batch.sample_no, list(self.failing)))
            copy_rows(conn, TestItem.__table__, ("batch_id", "item", "verdict"),
                      [(ids[s], item, "fail") for s, items in self.failing.items() for item in items])
        self.corrections.apply(session, self.spread)
        self.stack.close()  # the connection's bulk tuning ends before the commit
        report = result.report()
        run.accepted, run.unchanged, run.rejected = result.accepted, result.unchanged, report["rejected_rows"]
        run.report = {**report, "rejected": result.rejected[:STORED_REJECTIONS]}
        audit(session, self.options.user_id, "import", "import_run", run.id,
              after={"filename": run.filename, "accepted": run.accepted, "unchanged": run.unchanged,
                     "rejected": run.rejected, "new_enterprises": sorted(registered)})
        session.commit()
