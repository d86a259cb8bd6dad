"""Load 20 million batches through the import path, timed against COPY of the same kind of rows.

The target (issue 7): "Load 20 million batches (three years of national volume) into
PostgreSQL through the project's own import path, every check on, and report rows per second
against PostgreSQL COPY of the same already-parsed rows into the same tables and indexes in
the same run (target: within 3x of COPY)."

* import - `import_batches()` end to end on one in-memory CSV file of `--chunk` rows at a
           time (as a bulk load of many files would run): parsing, every rule, the duplicate
           and enterprise lookups, registering new enterprises, the inserts, the aggregate
           upsert, the import run, the audit record and the commit.
* COPY   - after the first import file and then after every `--copy-every` files, `--chunk`
           more rows of the same generator (other sample numbers) already turned into final
           column tuples (ids reserved, codes resolved) go into enterprises, batches and
           test_items with `COPY ... FROM STDIN` in one transaction (`core.database.copy_rows`).
           The timed part is the COPY statements and the commit; the sample's aggregate delta
           is applied untimed in the same transaction just before (so the database stays
           consistent for the query benchmark).

Both are measured on the same tables and indexes as they grow, so each checkpoint compares
the import files since the previous checkpoint with the COPY at that size. Generating the
rows runs ahead in a separate process and is not timed.

The load is resumable: a file is done once its import run (`scale-NNNNN.csv`) is stored, a
COPY sample once its first sample number is; timings go to `--log` (JSON lines) and the
summary is computed from that log, so an interrupted run continues where it stopped.
`--verify` recomputes the aggregate from the batches and compares it with `series_months`.

    nice -n 5 python bench/scale_load.py --database-url URL
        [--total 20000000] [--chunk 200000] [--copy-every 10] [--seed 1] [--log FILE] [--verify]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

from common import RowMaker, make_app, to_csv, user_id
from flask_migrate import upgrade
from import_speed import children_cpu, to_columns
from sqlalchemy import text

from core.database import copy_rows
from core.reference.seed import seed_reference
from core.extensions import db
from core.reference.trees import load_trees
from inspection.aggregates import Deltas
from inspection.imports.importer import ImportOptions, import_batches
from inspection.models import Batch, Enterprise, TestItem

TARGET_RATIO = 3.0  # import within 3x of COPY

_maker: RowMaker | None = None


def generate(seed: int, tag: str, index: int, size: int, as_csv: bool):
    """Rows of file `index` (in a worker process): the same rows whatever happened before."""
    global _maker
    if _maker is None:
        _maker = RowMaker(seed)
    _maker.rng.seed(f"{seed}-{tag}-{index}")
    rows = _maker.rows(size, tag=f"{tag}{index:05d}")
    return to_csv(rows) if as_csv else rows


def import_name(index: int) -> str:
    return f"scale-{index:05d}.csv"


def stored_imports() -> set[int]:
    names = db.session.scalars(text(
        "SELECT filename FROM import_runs WHERE filename LIKE 'scale-%' AND accepted > 0"))
    return {int(n[len("scale-"):-len(".csv")]) for n in names}


def copy_stored(index: int) -> bool:
    return db.session.scalar(text("SELECT 1 FROM batches WHERE sample_no = :s"),
                             {"s": f"C{index:05d}{0:09d}"}) is not None


def run_import(content: bytes, index: int, size: int, uid: int, parallel_bytes: int) -> dict:
    db.session.remove()
    started, cpu, child = time.perf_counter(), time.process_time(), children_cpu()
    result = import_batches(db.session, content, ImportOptions(
        filename=import_name(index), user_id=uid, max_bytes=1 << 30, max_rows=10_000_000,
        parallel_bytes=parallel_bytes))
    wall = time.perf_counter() - started
    db.session.remove()
    if result.rejected or result.accepted != size:
        raise SystemExit(f"file {index}: accepted {result.accepted:,} of {size:,}; "
                         f"first rejections {result.rejected[:5]}")
    return {"wall": wall, "cpu": time.process_time() - cpu, "child_cpu": children_cpu() - child}


def run_copy(rows, uid: int) -> dict:
    """COPY the rows (final column tuples, prepared untimed) in one transaction; time COPY + commit."""
    session = db.session
    enterprises, batches, items = to_columns(rows, uid)
    deltas = Deltas(load_trees(session))
    local = {b["id"]: b["local"] for b in batches}
    for r, b in zip(rows, batches):
        deltas.add(r.category, r.region, r.sampled_on, local[b["id"]], r.failed)
    deltas.apply(session)  # untimed: the sample's share of the aggregate, same transaction
    tables = []
    for table, dicts in ((Enterprise.__table__, enterprises), (Batch.__table__, batches),
                         (TestItem.__table__, items)):
        if dicts:
            columns = list(dicts[0])
            tables.append((table, columns, [tuple(d[c] for c in columns) for d in dicts]))
    conn = session.connection()
    started, cpu = time.perf_counter(), time.process_time()
    for table, columns, tuples in tables:
        copy_rows(conn, table, columns, tuples)
    session.commit()
    wall = time.perf_counter() - started
    cpu = time.process_time() - cpu
    db.session.remove()
    return {"wall": wall, "cpu": cpu, "new_enterprises": len(enterprises), "test_items": len(items)}


def read_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def summarise(entries: list[dict], chunk: int) -> None:
    imports = [e for e in entries if e["kind"] == "import"]
    copies = [e for e in entries if e["kind"] == "copy"]
    if not imports or not copies:
        return
    print("\ncheckpoint  batches before   import rows/s (files since last)   COPY rows/s   import/COPY")
    ratios = []
    for n, c in enumerate(copies):
        since = [e for e in imports if (copies[n - 1]["index"] if n else -1) < e["index"] <= c["index"]]
        if not since:
            continue
        rate = sum(e["rows"] for e in since) / sum(e["wall"] for e in since)
        copy_rate = c["rows"] / c["wall"]
        ratios.append(rate / copy_rate)
        print(f"after file {c['index']:>5}  {c['before']:>14,}   {rate:>12,.0f} ({len(since):>3} files)"
              f"         {copy_rate:>11,.0f}   {rate / copy_rate:>10.2f}x")
    import_rate = sum(e["rows"] for e in imports) / sum(e["wall"] for e in imports)
    copy_rate = sum(e["rows"] for e in copies) / sum(e["wall"] for e in copies)
    ratio = copy_rate / import_rate
    print(f"\noverall: import {sum(e['rows'] for e in imports):,} rows in {sum(e['wall'] for e in imports):,.0f} s"
          f" = {import_rate:,.0f} rows/s; COPY {sum(e['rows'] for e in copies):,} rows in "
          f"{sum(e['wall'] for e in copies):,.0f} s = {copy_rate:,.0f} rows/s")
    print(f"import takes {ratio:.2f}x the time of COPY (median per checkpoint "
          f"{1 / statistics.median(ratios):.2f}x); target within {TARGET_RATIO:.0f}x: "
          f"{'met' if ratio <= TARGET_RATIO else 'NOT met'}")
    loads = [e["load"] for e in entries]
    print(f"load average (1 min) during the run: median {statistics.median(loads):.1f}, "
          f"max {max(loads):.1f} on {os.cpu_count()} CPUs")


def verify() -> None:
    """Recompute the aggregate from the batches and compare it with series_months, key by key."""
    session = db.session
    trees = load_trees(session)
    started = time.perf_counter()
    grouped = session.execute(text(
        "SELECT category_code, region_code, to_char(sampled_on, 'YYYY-MM'), local, count(*), "
        "count(*) FILTER (WHERE conclusion = 'fail') FROM batches WHERE voided_at IS NULL "
        "GROUP BY 1, 2, 3, 4")).all()
    deltas = Deltas(trees)
    deltas.add_counts({tuple(r[:4]): r[4] for r in grouped}, {tuple(r[:4]): r[5] for r in grouped})
    expected = {tuple(r[:4]): (r[4], r[5]) for r in deltas.rows()}
    stored = {tuple(r[:4]): (r[4], r[5]) for r in session.execute(text(
        "SELECT category_code, region_code, month, local, batches, failed FROM series_months "
        "WHERE batches <> 0 OR failed <> 0"))}
    wrong = [k for k in expected.keys() | stored.keys() if expected.get(k) != stored.get(k)]
    total = sum(r[4] for r in grouped)
    print(f"verify: {total:,} batches, {len(expected):,} aggregate keys recomputed from them, "
          f"{len(stored):,} stored; {len(wrong):,} differ ({time.perf_counter() - started:,.0f} s)")
    for k in wrong[:10]:
        print(f"  {k}: recomputed {expected.get(k)}, stored {stored.get(k)}")
    if wrong:
        raise SystemExit(1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--total", type=int, default=20_000_000, help="batches loaded through the import")
    parser.add_argument("--chunk", type=int, default=200_000, help="rows per import file and COPY sample")
    parser.add_argument("--copy-every", type=int, default=10, help="a COPY sample after every N files")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--log", type=Path, default=Path("/tmp/bench/scale_load.jsonl"))
    parser.add_argument("--parallel-bytes", type=int, default=-1,
                        help="IMPORT_PARALLEL_BYTES (default -1, the application's default: serial parse)")
    parser.add_argument("--verify", action="store_true", help="only check the aggregate against the batches")
    args = parser.parse_args()

    app = make_app(args.database_url)
    with app.app_context():
        upgrade()
        if not db.session.scalar(text("SELECT count(*) FROM categories")):
            seed_reference(db.session)
            db.session.commit()
        if args.verify:
            verify()
            return
        uid = user_id()
        db.session.commit()
        done = stored_imports()
        files = -(-args.total // args.chunk)
        todo = [i for i in range(files) if i not in done]
        log = read_log(args.log)
        print(f"{len(done)} of {files} files already stored; {len(log)} timings in {args.log}", flush=True)
        args.log.parent.mkdir(parents=True, exist_ok=True)
        before = int(db.session.scalar(text("SELECT coalesce(sum(accepted), 0) FROM import_runs")))
        before += 0 if not log else sum(e["rows"] for e in log if e["kind"] == "copy")
        with ProcessPoolExecutor(1, mp_context=get_context("spawn")) as pool, args.log.open("a") as out:
            def ahead(i):
                size = min(args.chunk, args.total - i * args.chunk)
                return size, pool.submit(generate, args.seed, "S", i, size, True)

            pending = ahead(todo[0]) if todo else None
            for n, i in enumerate(todo):
                size, future = pending
                content = future.result()
                pending = ahead(todo[n + 1]) if n + 1 < len(todo) else None
                entry = {"kind": "import", "index": i, "rows": size, "before": before,
                         **run_import(content, i, size, uid, args.parallel_bytes), "load": os.getloadavg()[0]}
                before += size
                out.write(json.dumps(entry) + "\n")
                out.flush()
                print(f"file {i:>5}: {size:,} rows in {entry['wall']:6.1f} s = {size / entry['wall']:>7,.0f} rows/s"
                      f" (CPU {entry['cpu']:.1f} s); batches now {before:,}; load {entry['load']:.1f}", flush=True)
                if (i == 0 or (i + 1) % args.copy_every == 0 or i == files - 1) and not copy_stored(i):
                    rows = pool.submit(generate, args.seed, "C", i, args.chunk, False).result()
                    entry = {"kind": "copy", "index": i, "rows": len(rows), "before": before,
                             **run_copy(rows, uid), "load": os.getloadavg()[0]}
                    before += len(rows)
                    out.write(json.dumps(entry) + "\n")
                    out.flush()
                    recent = [e for e in read_log(args.log) if e["kind"] == "import"][-args.copy_every:]
                    rate = sum(e["rows"] for e in recent) / sum(e["wall"] for e in recent)
                    copy_rate = entry["rows"] / entry["wall"]
                    print(f"  COPY sample: {entry['rows']:,} rows in {entry['wall']:6.1f} s = {copy_rate:>7,.0f} rows/s;"
                          f" import/COPY (last {len(recent)} files) {rate / copy_rate:.2f}x "
                          f"(import takes {copy_rate / rate:.2f}x the time); batches now {before:,}", flush=True)
        summarise(read_log(args.log), args.chunk)


if __name__ == "__main__":
    main()
