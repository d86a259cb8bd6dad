"""Import speed into a database already holding a million batches, against a plain-insert baseline.

The target (issue): "Import into a database already holding 1,000,000 batches, every check
on: at least 20,000 rows per second, and the ratio to a baseline that inserts the same
already-parsed rows into the same tables and indexes in one transaction, measured in the
same run."

* import   - `import_batches()` end to end on a CSV held in memory: decoding and parsing,
             every validation rule, duplicate and enterprise lookups, registering new
             enterprises, the inserts, the series-aggregate upserts and the commit.
* baseline - rows of the same generator (same mix, other sample numbers) already turned into
             final column tuples (enterprise and batch ids reserved beforehand, codes resolved,
             dates as `date`), inserted into enterprises, batches and test_items in one
             transaction by the fastest plain means (`--baseline copy`, the default: COPY on
             PostgreSQL, the driver's executemany on SQLite, as the importer writes) or by
             SQLAlchemy Core executemany (`--baseline core`): no parsing, no checks, no aggregate.

Both write into the same tables with the same indexes, one after the other, in the same run.
Building the file and the column tuples is not timed.

    python bench/import_speed.py [--database-url URL] [--existing 1000000]
        [--rows 100000] [--months 36] [--seed 1] [--repeat 1] [--reuse] [--baseline copy|core]
"""
from __future__ import annotations

import argparse
import os
import resource
import statistics
import time

from common import (RowMaker, check_import, count_batches, default_sqlite_url, prepare_database,
                    to_csv, user_id)
from sqlalchemy import insert, select, text

from core.database import bulk_writes, copy_rows
from core.extensions import db
from core.models import utcnow
from inspection.credit_code import region_of
from inspection.imports.importer import ImportOptions, import_batches
from inspection.imports.rows import RESULTS, STAGE_WORDS
from inspection.models import Batch, Enterprise, TestItem

TARGET = 20_000  # rows per second


def reserve_ids(table: str, n: int) -> list[int]:
    """`n` primary keys for `table` that nothing else will use (not timed: part of "parsed")."""
    session = db.session
    if session.get_bind().dialect.name == "postgresql":
        return list(session.scalars(text(
            f"SELECT nextval(pg_get_serial_sequence('{table}', 'id')) FROM generate_series(1, :n)"),
            {"n": n}))
    first = (session.scalar(text(f"SELECT max(id) FROM {table}")) or 0) + 1
    return list(range(first, first + n))


def to_columns(rows, uid: int) -> tuple[list[dict], list[dict], list[dict]]:
    """The rows as final enterprise, batch and test-item column dicts, everything resolved."""
    known = {code: (eid, region.startswith("33")) for eid, code, region in db.session.execute(
        select(Enterprise.id, Enterprise.credit_code, Enterprise.region_code))}
    now = utcnow()
    new_names = {}  # credit code -> name, first row wins (as in the import)
    for r in rows:
        if r.credit_code and r.credit_code not in known:
            new_names.setdefault(r.credit_code, r.name)
    enterprises = []
    for eid, (code, name) in zip(reserve_ids("enterprises", len(new_names)), new_names.items()):
        region = region_of(code)
        enterprises.append({"id": eid, "credit_code": code, "name": name, "region_code": region,
                            "blacklisted": False, "created_at": now, "created_by_id": uid})
        known[code] = (eid, region.startswith("33"))
    batches, items = [], []
    for bid, r in zip(reserve_ids("batches", len(rows)), rows):
        eid, local = known[r.credit_code] if r.credit_code else (None, False)
        batches.append({
            "id": bid, "sample_no": r.sample_no, "sampled_on": r.sampled_on, "reported_on": r.reported_on,
            "category_code": r.category, "region_code": r.region, "enterprise_id": eid,
            "producer_name": None if r.credit_code else r.name, "product": r.product, "brand": r.brand,
            "specification": r.specification, "lot": r.lot, "production_date": r.production_date,
            "stage": STAGE_WORDS[r.stage] if r.stage else None, "sampling_agency": r.agency,
            "laboratory": r.laboratory, "report_no": r.report_no, "conclusion": RESULTS[r.result],
            "fail_reason": r.fail_reason, "local": local, "version": 1, "created_at": now,
            "created_by_id": uid, "import_id": None,
        })
        items.extend({"batch_id": bid, "item": item, "verdict": "fail"} for item in r.failed_items)
    return enterprises, batches, items


def children_cpu() -> float:
    """CPU seconds of this process's ended children (the import's parsing process)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_import(content: bytes, n: int, uid: int, parallel_bytes: int) -> tuple[float, float, float]:
    db.session.remove()  # a fresh session, as a request or job would have
    started, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
    result = import_batches(db.session, content, ImportOptions(
        filename="bench-import.csv", user_id=uid, max_bytes=1 << 30, max_rows=10_000_000,
        parallel_bytes=parallel_bytes))
    took = time.perf_counter() - started, time.process_time() - cpu, children_cpu() - child
    check_import(result, n)
    db.session.remove()
    return took


def run_baseline(enterprises: list[dict], batches: list[dict], items: list[dict],
                 how: str) -> tuple[float, float, float]:
    session = db.session
    session.commit()  # end the transaction that reserved the ids
    tables = [(Enterprise.__table__, enterprises), (Batch.__table__, batches), (TestItem.__table__, items)]
    tables = [(table, list(rows[0]), rows) for table, rows in tables if rows]
    if how == "copy":  # as tuples in column order, which is what the driver takes
        tables = [(table, columns, [tuple(r[c] for c in columns) for r in rows]) for table, columns, rows in tables]
    started, cpu = time.perf_counter(), time.process_time()
    if how == "core":  # SQLAlchemy Core executemany, what the importer used before
        for table, _, rows in tables:
            session.execute(insert(table), rows)
    else:  # the driver directly: PostgreSQL COPY, SQLite executemany (the importer's own means)
        conn = session.connection()
        with bulk_writes(conn):
            for table, columns, rows in tables:
                copy_rows(conn, table, columns, rows)
    session.commit()
    took = time.perf_counter() - started, time.process_time() - cpu, 0.0
    db.session.remove()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=default_sqlite_url("import.sqlite"))
    parser.add_argument("--existing", type=int, default=1_000_000, help="batches loaded before timing")
    parser.add_argument("--rows", type=int, default=100_000, help="rows in each timed step")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=1, help="time each step N times; report the median")
    parser.add_argument("--months", type=int, default=36,
                        help="timed rows are sampled over the last N months (fewer months: fewer aggregate keys)")
    parser.add_argument("--reuse", action="store_true", help="keep a database that already holds --existing")
    parser.add_argument("--baseline", choices=("copy", "core"), default="copy",
                        help="copy: the driver's fastest bulk insert (PostgreSQL COPY, SQLite executemany); "
                             "core: SQLAlchemy Core executemany")
    parser.add_argument("--parallel-bytes", type=int, default=1_000_000,
                        help="IMPORT_PARALLEL_BYTES: files from this size on are parsed in a forked "
                             "child process; -1: never (the serial import)")
    args = parser.parse_args()

    app = prepare_database(args.database_url, args.existing, args.seed, args.reuse)
    # (wall, CPU of this process, CPU of its children) seconds
    times: dict[str, list[tuple[float, float, float]]] = {"import": [], "baseline": []}
    with app.app_context():
        uid = user_id()
        db_dialect = db.engine.dialect.name
        print(f"database: {db.engine.url.render_as_string(hide_password=True)} "
              f"({db.engine.dialect.name}); batches in database: {count_batches():,}")
        maker = RowMaker(args.seed)
        stamp = f"{int(time.time()) % 10**7:07d}"  # fresh sample numbers on a reused database
        for rep in range(args.repeat):
            rows = maker.rows(args.rows, tag=f"A{stamp}{rep}", months=args.months)
            content = to_csv(rows)
            codes = len({r.credit_code for r in rows if r.credit_code})
            print(f"import file: {args.rows:,} rows over {args.months} months, {len(content) / 1e6:.1f} MB, "
                  f"{sum(r.failed for r in rows):,} failed, {codes:,} distinct credit codes")
            times["import"].append(run_import(content, args.rows, uid, args.parallel_bytes))
            wall, cpu, child = times["import"][-1]
            print(f"  import   #{rep + 1}: {wall:6.2f} s (CPU {cpu:5.2f} s, parsing child {child:5.2f} s); "
                  f"batches in database: {count_batches():,}")

            rows = maker.rows(args.rows, tag=f"B{stamp}{rep}", months=args.months)
            enterprises, batches, items = to_columns(rows, uid)
            times["baseline"].append(run_baseline(enterprises, batches, items, args.baseline))
            print(f"  baseline #{rep + 1}: {times['baseline'][-1][0]:6.2f} s (CPU {times['baseline'][-1][1]:5.2f} s); "
                  f"batches in database: "
                  f"{count_batches():,} ({len(enterprises):,} new enterprises, {len(items):,} test items)")
        series = db.session.scalar(text("SELECT count(*) FROM series_months"))
        print(f"series_months rows: {series:,}")

    print(f"\nload average (1/5/15 min) at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    # CPU seconds: steadier than wall time on a shared machine, but complete only for SQLite
    # (PostgreSQL works in its own processes). The import's parsing child runs on the second
    # core beside this process: on an idle machine the import takes about the larger of the
    # two (the critical path), which `rows/CPU s` is computed from.
    print(f"{'step':<10}{'rows':>10}{'seconds':>10}{'rows/s':>10}{'CPU s':>8}{'child CPU s':>13}"
          f"{'rows/CPU s':>12}   (median of {args.repeat}; baseline: {args.baseline})")
    rate, cpu_rate = {}, {}
    for step, values in times.items():
        seconds = statistics.median(v[0] for v in values)
        cpu = statistics.median(v[1] for v in values)
        child = statistics.median(v[2] for v in values)
        rate[step], cpu_rate[step] = args.rows / seconds, args.rows / max(cpu, child)
        print(f"{step:<10}{args.rows:>10,}{seconds:>10.2f}{rate[step]:>10,.0f}{cpu:>8.2f}{child:>13.2f}"
              f"{cpu_rate[step]:>12,.0f}")
    verdict = "met" if rate["import"] >= TARGET else "NOT met"
    print(f"import runs at {rate['import'] / rate['baseline']:.2f}x the baseline's speed; "
          f"target of {TARGET:,} rows/s {verdict} in wall time")
    if db_dialect == "sqlite":  # PostgreSQL's own CPU time is not in these figures
        print(f"by CPU seconds of the critical path: {cpu_rate['import'] / cpu_rate['baseline']:.2f}x the "
              f"baseline; {TARGET:,} rows/s {'met' if cpu_rate['import'] >= TARGET else 'NOT met'}")

if __name__ == "__main__":
    main()
