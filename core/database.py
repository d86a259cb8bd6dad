"""Engine tuning that depends on the database in use, and bulk writes for imports."""
from __future__ import annotations

import time
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Callable, Iterable, Iterator, Sequence

from flask import Flask
from sqlalchemy import Column, Select, Table, any_, bindparam, event
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DisconnectionError, IntegrityError
from sqlalchemy.sql import ColumnElement

# Page cache of a SQLite connection while it bulk-writes (KiB, as PRAGMA cache_size takes it
# when negative). An import of 100,000 rows dirties most leaf pages of the batch indexes and
# of series_months; with SQLite's default 2 MiB they are evicted and read again many times.
BULK_CACHE_KIB = 256 * 1024


# A read-only request's connection: each statement commits by itself (no BEGIN and ROLLBACK
# round trips). A statement sees what was committed when it started, as in a READ COMMITTED
# transaction; a change would commit statement by statement, so none is allowed.
READ_ONLY = {"isolation_level": "AUTOCOMMIT", "read_only_request": True}


# A statement planned for each execution's own values. psycopg prepares a statement a
# connection has run five times, and PostgreSQL may then settle on a generic plan, which for a
# range and an IN list on one index (the statistics totals) scans nine times the rows.
CUSTOM_PLAN = {"custom_plan": True}


# PostgreSQL's names of UTC itself (the same rules and abbreviation, UTC): a server set to one
# of them is set to 'UTC' for each connection (see configure_engine).
UTC_NAMES = {"Etc/UTC", "Etc/Universal", "Etc/Zulu", "Universal", "Zulu"}


class WriteInReadOnlyRequest(RuntimeError):
    pass


def configure_engine(app: Flask, engine: Engine) -> None:
    ping_when_idle(engine, app.config["DB_PING_IDLE_SECONDS"])

    # Checked as the dialect executes a compiled statement, not in a connection event: any
    # connection event on the engine sends every statement through SQLAlchemy's event path (a
    # twentieth of a hot request's instructions).
    def _refuse_writes_on_reads(*args) -> None:  # (cursor, statement, [parameters,] context)
        context = args[-1]
        if context.is_crud and context.execution_options.get("read_only_request"):
            raise WriteInReadOnlyRequest(f"a read-only request tried to write: {context.statement}")

    for execution in ("do_execute", "do_executemany", "do_execute_no_params"):
        event.listen(engine, execution, _refuse_writes_on_reads)

    if engine.dialect.driver == "psycopg":
        @event.listens_for(engine, "connect")
        def _psycopg_connection(dbapi_conn, _record):
            if dbapi_conn.info.parameter_status("TimeZone") in UTC_NAMES:
                # The same zone under the name psycopg maps to `timezone.utc`: each timestamp
                # read is then made aware with a fixed offset instead of a ZoneInfo lookup (a
                # twentieth of an alert list's instructions), its value and text unchanged.
                dbapi_conn.execute("SET TIME ZONE 'UTC'")
            # No JIT compilation: the app's statements run in milliseconds through indexes,
            # but a search's gather is estimated at tens of thousands of rows (PostgreSQL cannot
            # know a word is absent) and was compiled first: 6 ms and more of a 60 ms request
            # (食 among drugs at 22.4 million batches: 60 -> 34 ms without).
            dbapi_conn.execute("SET jit = off")
            dbapi_conn.commit()

        @event.listens_for(engine, "do_execute")
        def _custom_plan(cursor, statement, parameters, context):
            if context.execution_options.get("custom_plan"):
                cursor.execute(statement, parameters, prepare=False)
                return True  # executed here
            return None

    if engine.dialect.name != "sqlite":
        return

    @event.listens_for(engine, "connect")
    def _sqlite_pragmas(dbapi_conn, _record):
        # WAL lets the web process read while the worker writes; foreign keys are off by
        # default in SQLite; a busy timeout turns lock contention into a short wait.
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.close()


def ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Test a pooled connection before handing it out only if it sat unused for `idle_seconds`.

    A connection used moments ago is very likely alive, and pinging every checkout (the pool's
    `pool_pre_ping`) cost a round trip per request. A connection that does fail in use is
    still caught: the error is 503 and marks the whole pool stale, so every connection opened
    before it is replaced at its next checkout. A dead idle connection is replaced here,
    unnoticed by the request (the pool retries the checkout with a new connection).
    """
    @event.listens_for(engine, "checkin")
    def _idle_from(_dbapi_conn, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _ping_if_idle(dbapi_conn, record, _proxy):
        since = record.info.pop("idle_since", None)
        if since is None or time.monotonic() - since < idle_seconds:
            return  # new, or in use a moment ago
        try:
            engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:  # any failure: let the pool open a new connection
            raise DisconnectionError(f"pooled connection failed its ping: {exc}") from exc


def unique_violated(error: IntegrityError, table: Table, column: str) -> bool:
    """Whether `error` is a duplicate in the unique constraint on `table.column`."""
    diag = getattr(error.orig, "diag", None)  # psycopg names the constraint; sqlite3 only says it
    if diag is not None:
        return diag.constraint_name == f"uq_{table.name}_{column}"
    return f"UNIQUE constraint failed: {table.name}.{column}" in str(error.orig)


@contextmanager
def bulk_writes(conn: Connection) -> Iterator[None]:
    """Tune `conn` for writing many rows for as long as the block runs (a larger SQLite cache).

    The cache is shrunk back afterwards, so pooled connections of the web process stay small.
    """
    if conn.dialect.name != "sqlite":
        yield
        return
    raw = conn.connection.driver_connection
    before = raw.execute("PRAGMA cache_size").fetchone()[0]
    raw.execute(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")
    try:
        yield
    finally:
        raw.execute(f"PRAGMA cache_size={int(before)}")


def one_of(conn: Connection, column, values: Sequence) -> Iterator[ColumnElement]:
    """Conditions that together select the rows whose `column` is one of `values`.

    PostgreSQL: one `= ANY(array)` with a single parameter, planned once however long. SQLite:
    `IN` lists of 900, under its bound-parameter limit.
    """
    if conn.dialect.name == "postgresql":
        if values:
            yield column == any_(bindparam(None, list(values), type_=postgresql.ARRAY(column.type)))
        return
    for start in range(0, len(values), 900):
        yield column.in_(values[start:start + 900])


def _bound(conn: Connection, table: Table, columns: Sequence[str],
           rows: Iterable[Sequence]) -> Iterator[tuple]:
    """`rows` with each value converted as SQLAlchemy would bind it (dates, UTC timestamps...).

    Column by column: each distinct value is converted once (memoised per bind processor,
    across calls, as an import writes in chunks: dates, flags and its timestamp repeat), then
    the column is mapped through the memo in one list comprehension.
    """
    processors = [table.c[c].type._cached_bind_processor(conn.dialect) for c in columns]
    converters = [(i, process) for i, process in enumerate(processors) if process is not None]
    if not converters:
        return map(tuple, rows)
    table_columns = list(zip(*rows))
    if not table_columns:
        return iter(())
    for i, process in converters:
        values = table_columns[i]
        try:
            distinct = set(values)
        except TypeError:  # JSON documents: each its own
            table_columns[i] = [None if v is None else process(v) for v in values]
            continue
        memo = _memo(process)
        for value in distinct.difference(memo):
            memo[value] = None if value is None else process(value)
        table_columns[i] = [memo[v] for v in values]
    return zip(*table_columns)


def row_binder(dialect: Dialect, table: Table, columns: Sequence[str]) -> Callable[[Sequence], tuple]:
    """A function converting one row (values of `columns`) as `copy_rows` would, for callers that
    convert rows where it is cheaper (an import's parsing process) and pass them `bound=True`."""
    processors = [(i, process, {}) for i, process in enumerate(
        table.c[c].type._cached_bind_processor(dialect) for c in columns) if process is not None]
    if not processors:
        return tuple

    def bind(row: Sequence) -> tuple:
        row = list(row)
        for i, process, memo in processors:
            value = row[i]
            if value is not None:
                try:
                    row[i] = memo[value]
                except KeyError:
                    row[i] = memo[value] = process(value)
        return tuple(row)
    return bind


_MEMOS: dict = {}  # bind processor -> {value: converted}
MEMO_SIZE = 100_000


def _memo(process) -> dict:
    memo = _MEMOS.get(process)
    if memo is None or len(memo) > MEMO_SIZE:  # timestamps never repeat across imports: bounded
        # A new dict, not clear(): an import in another thread may be reading the old one.
        memo = _MEMOS[process] = {}
    return memo


def select_in(conn: Connection, columns: Sequence[Column], key: Column,
              values: Sequence[str]) -> list[tuple]:
    """`columns` of the rows whose string column `key` is one of `values`, queried at the driver.

    For an import's lookups (sample numbers, credit codes): compiling an `IN` of 900 bound
    parameters through SQLAlchemy cost more than running it. Results are the driver's values
    (use it for strings and integers).
    """
    name, selected = _names(conn, key.table, [c.name for c in columns])
    _, where = _names(conn, key.table, (key.name,))
    raw = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        if not values:
            return []
        with raw.cursor() as cur:
            cur.execute(f"SELECT {selected} FROM {name} WHERE {where} = ANY(%s)", (list(values),))
            return cur.fetchall()
    found: list[tuple] = []
    for start in range(0, len(values), 900):
        part = values[start:start + 900]
        marks = ", ".join("?" * len(part))
        found += raw.execute(f"SELECT {selected} FROM {name} WHERE {where} IN ({marks})", part).fetchall()
    return found


def driver_rows(conn: Connection, query: Select) -> list[tuple]:
    """`query`'s rows as the driver's plain tuples, skipping SQLAlchemy's row objects (for
    reads of a million rows). Bound values are rendered into the SQL by the dialect, so the
    query must hold only values it can render (numbers, strings, dates)."""
    sql = str(query.compile(dialect=conn.dialect, compile_kwargs={"literal_binds": True}))
    cursor = conn.connection.driver_connection.cursor()
    try:
        cursor.execute(sql)
        return cursor.fetchall()
    finally:
        cursor.close()


def _names(conn: Connection, table: Table, columns: Sequence[str]) -> tuple[str, str]:
    quote = conn.dialect.identifier_preparer.quote
    return quote(table.name), ", ".join(quote(c) for c in columns)


def copy_rows(conn: Connection, table: Table, columns: Sequence[str], rows: Iterable[Sequence],
              bound: bool = False) -> None:
    """Insert rows (tuples in `columns` order) the fastest plain way, in `conn`'s transaction.

    PostgreSQL: COPY FROM STDIN. SQLite: the driver's executemany of one prepared INSERT.
    Both bypass SQLAlchemy's per-row parameter handling, which cost as much as the insert;
    values still go through each column type's bind processor (here, or before with
    `row_binder` when `bound`), so what is stored is what the ORM would store.
    """
    name, cols = _names(conn, table, columns)
    raw = conn.connection.driver_connection
    if not bound:
        rows = _bound(conn, table, columns, rows)
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cur, cur.copy(f"COPY {name} ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" * len(columns))
        raw.executemany(f"INSERT INTO {name} ({cols}) VALUES ({marks})", rows)


def add_rows(conn: Connection, table: Table, keys: Sequence[str], counts: Sequence[str],
             rows: Iterable[Sequence], bound: bool = False) -> None:
    """Upsert rows of (*keys, *counts): a new key is inserted, an existing one gets the counts added.

    Values are converted as in `copy_rows` (before, with `row_binder`, when `bound`).

    PostgreSQL: one INSERT ... SELECT ... ON CONFLICT in key order (concurrent writers lock rows
    in the same order: no deadlock), from arrays (one statement) for the few rows of a form or
    API write, from a temporary table filled by COPY for an import. SQLite: the driver's
    executemany of the upsert (one writer at a time, no ordering needed).
    """
    sql = _upsert_sql(conn.dialect, table, tuple(keys), tuple(counts))
    raw = conn.connection.driver_connection
    few = isinstance(rows, list) and len(rows) < FEW_ROWS
    if few and not rows:
        return
    if not bound:
        rows = _bound(conn, table, (*keys, *counts), rows)
    if conn.dialect.name == "postgresql" and few:
        with raw.cursor() as cur:
            cur.execute(sql.from_arrays, [list(column) for column in zip(*rows)])
    elif conn.dialect.name == "postgresql":
        with raw.cursor() as cur:
            cur.execute(sql.create_staging)
            with cur.copy(sql.copy_staging) as copy:
                for row in rows:
                    copy.write_row(row)
            cur.execute(sql.from_staging)
            cur.execute(sql.drop_staging)
    else:
        raw.executemany(sql.from_values, rows)


@dataclass(frozen=True)
class _UpsertSQL:
    from_arrays: str
    create_staging: str
    copy_staging: str
    from_staging: str
    drop_staging: str
    from_values: str


@cache
def _upsert_sql(dialect: Dialect, table: Table, keys: tuple[str, ...], counts: tuple[str, ...]) -> _UpsertSQL:
    """`add_rows`' statements, written once per table and columns (quoting names and compiling
    the array types cost a form write more than sending them)."""
    quote = dialect.identifier_preparer.quote
    name = quote(table.name)
    key_cols = ", ".join(quote(k) for k in keys)
    all_cols = ", ".join(quote(c) for c in (*keys, *counts))
    added = ", ".join(f"{quote(c)} = {name}.{quote(c)} + excluded.{quote(c)}" for c in counts)
    upsert = f"ORDER BY {key_cols} ON CONFLICT ({key_cols}) DO UPDATE SET {added}"
    arrays = ", ".join(f"%s::{table.c[c].type.compile(dialect)}[]" for c in (*keys, *counts))
    staging = f"{table.name}_delta"
    marks = ", ".join("?" * (len(keys) + len(counts)))
    return _UpsertSQL(
        from_arrays=f"INSERT INTO {name} ({all_cols}) SELECT * FROM unnest({arrays}) AS d ({all_cols}) {upsert}",
        create_staging=f"CREATE TEMPORARY TABLE {staging} (LIKE {name} INCLUDING DEFAULTS) ON COMMIT DROP",
        copy_staging=f"COPY {staging} ({all_cols}) FROM STDIN",
        from_staging=f"INSERT INTO {name} ({all_cols}) SELECT {all_cols} FROM {staging} {upsert}",
        drop_staging=f"DROP TABLE {staging}",
        from_values=f"INSERT INTO {name} ({all_cols}) VALUES ({marks}) ON CONFLICT ({key_cols}) DO UPDATE SET {added}")


FEW_ROWS = 1000  # below: one statement from arrays; from here on: COPY into a temporary table
