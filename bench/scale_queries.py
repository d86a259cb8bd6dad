"""Statistics, batch lists and the warning scan on the 20-million-batch database, over HTTP.

The targets (issue 7): "At that size, timed over HTTP with no response cache: pass-rate
statistics for any category x region x period under 300 ms; the batch list with filters under
200 ms on any page; and a full warning scan under 60 seconds."

The real server is started (gunicorn, 2 sync workers, production config) on loopback; each
request is timed from sending it to having read the whole body (urllib, one connection per
request). Nothing is cached between requests: every one authenticates its token, loads the
reference trees and queries the database.

* stats - `--stats N` random /api/stats/pass-rates queries: a category node (any level, or all
          products) x a region node (province, city or county) x period month/quarter/year x
          breakdown none/category/region/both x origin all/local, from/to a random span of
          1-36 months inside the loaded history. Each combination is sent once.
* list  - `--lists N` random /api/batches filter sets of the kinds a user types (category
          subtree, region subtree, sampling date range, conclusion, stage, enterprise, and
          combinations), each at page 1, 100 and 10,000 (50 rows a page) where the result has
          that many pages. The cursor of page P is the one the API returns after page P-1
          (computed once, untimed, from the same filtered query with OFFSET), so each request is
          what a user walking the pages sends.
* search - `--searches N` more list filter sets with the free-text search (timed and reported
          with the lists, and apart): a word of one to three characters taken from the product
          names in the data (alone, or with a region or a category), two random Chinese
          characters (almost never a product's: every index entry must be checked), and the
          beginning of an existing sample number.
* scan  - `--scan`: `flask warning scan` run twice as a separate process: wall time and CPU
          seconds of the process (the first of a month also trains the month's risk model;
          the second reuses it).

`--explain K` prints EXPLAIN (ANALYZE, BUFFERS) of the K slowest list queries.

    python bench/scale_queries.py --database-url URL [--stats 300] [--lists 100]
        [--searches 60] [--scan] [--explain 3] [--seed 7]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import random
import resource
import statistics
import subprocess
import sys
import time
import urllib.parse
from datetime import date, timedelta
from pathlib import Path

from common import BENCH_DIR, MONTHS, ROOT, USERNAME, make_app
from sqlalchemy import event, func, select, text
from stats_speed import free_port, get, start_server, stop_server

from core.auth.services import issue_token
from core.clock import local_today, month_of, shift_month
from core.extensions import db
from core.reference.trees import PROVINCE, load_trees
from inspection.models import Batch, Enterprise
from inspection.services.queries import BatchFilter, encode_cursor, filtered, list_batches

STATS_TARGET_MS, LIST_TARGET_MS, SCAN_TARGET_S = 300, 200, 60
PAGE = 50
PAGES = (1, 100, 10_000)
BIN = Path(sys.executable).parent


def percentiles(times: list[float]) -> str:
    times = sorted(times)
    p95 = times[math.ceil(0.95 * len(times)) - 1]
    return f"p50 {statistics.median(times):7.1f}  p95 {p95:7.1f}  max {times[-1]:7.1f} ms  (n={len(times)})"


def stats_queries(rng: random.Random, trees, n: int) -> list[str]:
    categories = [None, *sorted(trees.categories.nodes)]
    regions = [None, *sorted(trees.regions.nodes)]
    last = month_of(local_today())
    out = []
    for _ in range(n):
        span = rng.randint(1, MONTHS)
        to = shift_month(last, -rng.randint(0, MONTHS - span))
        params = {"period": rng.choice(("month", "quarter", "year")), "from": shift_month(to, -(span - 1)),
                  "to": to, "breakdown": rng.choice(("none", "category", "region", "both")),
                  "origin": rng.choice(("all", "all", "local"))}
        category, region = rng.choice(categories), rng.choice(regions)
        if category:
            params["category"] = category
        if region:
            params["region"] = region
        out.append("/api/stats/pass-rates?" + urllib.parse.urlencode(params))
    return out


def list_filters(rng: random.Random, trees, enterprises: list[int], n: int) -> list[dict]:
    """Filter sets of the kinds a user types, cycling through the kinds."""
    categories = sorted(c for c in trees.categories.nodes if c != "*")
    regions = sorted(r for r in trees.regions.nodes if r != PROVINCE)
    today = local_today()

    def dates(months: int) -> dict:
        end = today - timedelta(days=rng.randint(0, 900))
        start = end - timedelta(days=30 * months)
        return {"sampled_from": start.isoformat(), "sampled_to": end.isoformat()}

    kinds = [
        lambda: {},
        lambda: {"category": rng.choice(categories)},
        lambda: {"region": rng.choice(regions)},
        lambda: {"category": rng.choice(categories), "region": rng.choice(regions)},
        lambda: {"region": rng.choice(regions), **dates(rng.randint(1, 12))},
        lambda: {"conclusion": "fail", "category": rng.choice(categories)},
        lambda: {"conclusion": "fail", "region": rng.choice(regions), **dates(rng.randint(1, 12))},
        lambda: {"enterprise_id": rng.choice(enterprises)},
        lambda: {"enterprise_id": rng.choice(enterprises), **dates(rng.randint(1, 12))},
        lambda: {"stage": rng.choice(("production", "distribution", "catering", "online")),
                 "category": rng.choice(categories)},
        lambda: {"category": rng.choice(categories), "region": rng.choice(regions),
                 "conclusion": rng.choice(("pass", "fail")), **dates(rng.randint(1, 24))},
    ]
    return [kinds[i % len(kinds)]() for i in range(n)]


def search_filters(rng: random.Random, trees, products: list[str], sample_nos: list[str], n: int) -> list[dict]:
    """Filter sets with the list's free-text search, cycling through the kinds."""
    categories = sorted(c for c in trees.categories.nodes if c != "*")
    regions = sorted(r for r in trees.regions.nodes if r != PROVINCE)

    def word() -> str:
        product = rng.choice(products)
        size = min(len(product), rng.randint(1, 3))
        start = rng.randint(0, len(product) - size)
        return product[start:start + size]

    kinds = [
        lambda: {"search": word()},
        lambda: {"search": word(), "region": rng.choice(regions)},
        lambda: {"search": word(), "category": rng.choice(categories)},
        lambda: {"search": "".join(chr(rng.randint(0x4E00, 0x9FA5)) for _ in range(2))},
        lambda: {"search": rng.choice(sample_nos)[:rng.randint(8, 14)]},
    ]
    return [kinds[i % len(kinds)]() for i in range(n)]


def as_filter(params: dict) -> BatchFilter:
    values = {k: (date.fromisoformat(v) if k.startswith("sampled_") else v) for k, v in params.items()}
    return BatchFilter(**values)


def page_cursors(params: dict) -> dict[int, str | None]:
    """The cursor a client holds when asking for each page of PAGES that exists (None: page 1)."""
    stmt = filtered(db.session, as_filter(params)).with_only_columns(Batch.sampled_on, Batch.id)
    stmt = stmt.order_by(Batch.sampled_on.desc(), Batch.id.desc())
    cursors = {1: None}
    for page in PAGES[1:]:
        row = db.session.execute(stmt.offset((page - 1) * PAGE - 1).limit(1)).first()
        if row is None:
            break
        cursors[page] = encode_cursor("-sampled_on", row[0], row[1])
    return cursors


def explain(params: dict) -> str:
    """The statements `list_batches` runs for the API's first page (with a search: the walk, the
    gather, the sample-number prefix), each with its plan as run."""
    ran = []

    def record(conn, cursor, statement, parameters, context, executemany):
        if "FROM batches" in statement or "FROM (SELECT batches" in statement:
            ran.append((statement, parameters))

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        list_batches(db.session, as_filter(params), "-sampled_on", PAGE)
    finally:
        event.remove(db.engine, "before_cursor_execute", record)
    out = []
    for statement, parameters in ran:
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}",
                                                       parameters).scalars().all()
        out.append(f"{statement}\n{parameters}\n" + "\n".join(plan))
    db.session.rollback()
    return "\n\n".join(out)


def run_scan(database_url: str) -> tuple[float, float, str]:
    env = {**os.environ, "DATABASE_URL": database_url, "APP_CONFIG": "production", "SECRET_KEY": "bench",
           "FLASK_APP": "wsgi"}
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run([str(BIN / "flask"), "warning", "scan"], cwd=ROOT, env=env,
                          capture_output=True, text=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    if done.returncode:
        raise SystemExit(f"flask warning scan exited {done.returncode}: {done.stderr[-2000:]}")
    return wall, cpu, (done.stdout + done.stderr).strip().splitlines()[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", required=True)
    parser.add_argument("--stats", type=int, default=300, help="random statistics queries")
    parser.add_argument("--lists", type=int, default=110, help="random batch-list filter sets")
    parser.add_argument("--searches", type=int, default=60, help="random batch-list searches")
    parser.add_argument("--scan", action="store_true", help="time `flask warning scan` twice")
    parser.add_argument("--explain", type=int, default=0, help="EXPLAIN ANALYZE the K slowest list queries")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    app = make_app(args.database_url)
    with app.app_context():
        batches = db.session.scalar(text("SELECT reltuples::bigint FROM pg_class WHERE relname = 'batches'")) \
            if db.engine.dialect.name == "postgresql" else db.session.scalar(select(func.count()).select_from(Batch))
        token = issue_token(db.session, USERNAME)
        trees = load_trees(db.session)
        pool = list(db.session.scalars(select(Enterprise.id).order_by(Enterprise.id).limit(1500)))
        others = list(db.session.scalars(select(Enterprise.id).order_by(Enterprise.id.desc()).limit(1500)))
        stats = stats_queries(rng, trees, args.stats)
        filters = list_filters(rng, trees, pool + others, args.lists)
        sample = "SELECT DISTINCT product, sample_no FROM batches TABLESAMPLE SYSTEM (0.05) WHERE product IS NOT NULL" \
            if db.engine.dialect.name == "postgresql" else "SELECT product, sample_no FROM batches WHERE product IS NOT NULL LIMIT 5000"
        products, sample_nos = map(list, zip(*db.session.execute(text(sample)).all()))
        filters += search_filters(rng, trees, sorted(set(products)), sample_nos, args.searches)
        started = time.perf_counter()
        lists = [(params, page, cursor) for params in filters for page, cursor in page_cursors(params).items()]
        print(f"batches (estimate): {batches:,}; cursors of {len(lists)} list pages computed in "
              f"{time.perf_counter() - started:,.0f} s (untimed)", flush=True)
        db.session.commit()
        db.session.remove()
        db.engine.dispose()

    port = free_port()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    log = BENCH_DIR / f"gunicorn-{port}.log"
    proc = start_server(args.database_url, port, log)
    base = f"http://127.0.0.1:{port}"
    stat_times, list_times = [], []
    try:
        for _ in range(5):  # warm the workers (imports, pools), untimed
            get(base + (stats[0] if stats else "/api/batches?limit=1"), token)
        for path in stats:
            started = time.perf_counter()
            status, body = get(base + path, token)
            stat_times.append(((time.perf_counter() - started) * 1000, path, len(json.loads(body))))
        for params, page, cursor in lists:
            query = {**params, "limit": PAGE, **({"cursor": cursor} if cursor else {})}
            path = "/api/batches?" + urllib.parse.urlencode(query)
            started = time.perf_counter()
            status, body = get(base + path, token)
            list_times.append(((time.perf_counter() - started) * 1000, params, page, len(json.loads(body)["items"])))
        healthz = []
        for _ in range(50):
            started = time.perf_counter()
            get(base + "/healthz", None)
            healthz.append((time.perf_counter() - started) * 1000)
    finally:
        stop_server(proc)

    print(f"gunicorn -w 2, production config, {base}; log {log}")
    print(f"load average (1/5/15 min) after the HTTP part: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    print(f"healthz (HTTP + gunicorn + Flask alone): {percentiles(healthz)}")
    if stat_times:
        worst = sorted(stat_times, key=lambda t: t[0])[-3:]
        print(f"\nstatistics, {len(stat_times)} random combinations: {percentiles([t[0] for t in stat_times])}")
        for t in reversed(worst):
            print(f"  slowest: {t[0]:7.1f} ms, {t[2]:,} rows: {t[1]}")
        for key in ("breakdown=both", "breakdown=none"):
            sub = [t[0] for t in stat_times if key in t[1]]
            print(f"  {key:<15} {percentiles(sub)}")
        p95 = sorted(t[0] for t in stat_times)[math.ceil(0.95 * len(stat_times)) - 1]
        print(f"  target under {STATS_TARGET_MS} ms: p95 {'met' if p95 < STATS_TARGET_MS else 'NOT met'}, "
              f"max {'met' if max(t[0] for t in stat_times) < STATS_TARGET_MS else 'NOT met'}")
    if list_times:
        print(f"\nbatch list, {len(filters)} random filter sets: {percentiles([t[0] for t in list_times])}")
        for page in PAGES:
            sub = [t[0] for t in list_times if t[2] == page]
            if sub:
                print(f"  page {page:>6}: {percentiles(sub)}")
        searched = [t[0] for t in list_times if "search" in t[1]]
        if searched:
            print(f"  with a search ({args.searches} filter sets): {percentiles(searched)}")
        worst = sorted(list_times, key=lambda t: t[0])[-max(5, args.explain):]
        for t in reversed(worst):
            print(f"  slowest: {t[0]:7.1f} ms, page {t[2]}, {t[3]} rows: {t[1]}")
        p95 = sorted(t[0] for t in list_times)[math.ceil(0.95 * len(list_times)) - 1]
        print(f"  target under {LIST_TARGET_MS} ms: p95 {'met' if p95 < LIST_TARGET_MS else 'NOT met'}, "
              f"max {'met' if max(t[0] for t in list_times) < LIST_TARGET_MS else 'NOT met'}")
        if args.explain:
            with app.app_context():
                for t in reversed(worst[-args.explain:]):
                    print(f"\nEXPLAIN ANALYZE of {t[1]} (page 1 form):\n{explain(t[1])}")
    if args.scan:
        print()
        for run in ("first", "second"):
            wall, cpu, last = run_scan(args.database_url)
            print(f"flask warning scan ({run}): {wall:,.1f} s wall, {cpu:,.1f} CPU s of the process; "
                  f"target under {SCAN_TARGET_S} s {'met' if wall < SCAN_TARGET_S else 'NOT met'}; {last}",
                  flush=True)


if __name__ == "__main__":
    main()
