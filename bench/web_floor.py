"""Web load floor: what share of the trivial endpoint's throughput a Flask endpoint that only
makes the database round trips the real mixed load needs can reach here.

Issue 7 asks the mixed web load (bench/web_load.py) for a third of a trivial JSON endpoint's
throughput. This runs the same gunicorn configuration and wrk set-up (50 connections, closed
loop) against bench/web_floor_app.py, a bare Flask app on raw psycopg, in two rounds:

* trivial: GET /json (no database);
* floor mix: per connection in turn, POST /write 1 in 5 (token check + durable insert) and
  GET /read 4 in 5 (token check + one read), the mixed load's proportions of writes to reads.

Whatever the product does on top of these round trips (ORM, schemas, validation, scope, audit,
the statistics and alert queries themselves) can only lower its ratio below this one.

    python bench/web_floor.py --database-url postgresql://postgres@127.0.0.1:55438/web_load
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, text  # noqa: E402

from bench.web_load import BENCH_DIR, DONE_ONLY, LUA, CpuMeter, ensure_database, run_wrk, serve  # noqa: E402
from config import _normalise_db_url  # noqa: E402

FLOOR_MIX = r"""
local counter = 0
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function request()
  counter = counter + 1
  if counter % 5 == 0 then
    return wrk.format("POST", "/write", {["Content-Type"] = "application/json"}, "{}")
  end
  return wrk.format("GET", "/read")
end
errs = {}
function response(status, headers, body)
  if status >= 300 then errs[status] = (errs[status] or 0) + 1 end
end
""" + "function done" + LUA.split("function done")[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:55433/web_load")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--connections", type=int, default=50)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    BENCH_DIR.mkdir(exist_ok=True)
    ensure_database(args.database_url)
    url = _normalise_db_url(args.database_url)
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS floor_rows (id bigserial PRIMARY KEY, note text)"))
    port = 19000 + os.getpid() % 1000
    env = {"FLOOR_DATABASE_URL": args.database_url.replace("postgresql+psycopg://", "postgresql://")}
    server = serve("bench.web_floor_app:app", env, port, args.workers, args.threads,
                   BENCH_DIR / f"gunicorn-floor-{port}.log", "/json", 60)
    meter = CpuMeter(server, engine)
    base = f"http://127.0.0.1:{port}"
    try:
        run_wrk(FLOOR_MIX, base, args.connections, args.wrk_threads, 3)  # warm-up: connections
        rounds = {"floor mix": run_wrk(FLOOR_MIX, base, args.connections, args.wrk_threads, args.seconds, meter),
                  "trivial": run_wrk(DONE_ONLY, f"{base}/json", args.connections, args.wrk_threads,
                                     args.seconds, meter)}
    finally:
        server.terminate()
        server.wait(30)
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE floor_rows"))
        engine.dispose()
    load = os.getloadavg()
    print(f"\nbare Flask on raw psycopg; gunicorn -w {args.workers} -k gthread --threads {args.threads}, "
          f"wrk -t {args.wrk_threads} -c {args.connections} -d {args.seconds}s, load average {load[0]:.2f}")
    print(f"{'round':<10} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>7}   "
          f"CPU ms per request: {'gunicorn':>8} {'postgres':>8} {'wrk':>5} {'rest':>5}")
    for name, r in rounds.items():
        c = r["cpu"]
        print(f"{name:<10} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} "
              f"{r['non2xx'] + r['socket_errors']:>7}   {'':>19} {c['app']:>8.2f} {c['db']:>8.2f} "
              f"{c['wrk']:>5.2f} {c['rest']:>5.2f}")
    mix, trivial = rounds["floor mix"], rounds["trivial"]
    by_cpu = ((trivial["cpu"]["app"] + trivial["cpu"]["db"] + trivial["cpu"]["wrk"])
              / (mix["cpu"]["app"] + mix["cpu"]["db"] + mix["cpu"]["wrk"]))
    print(f"floor mix / trivial throughput: {mix['rps'] / trivial['rps']:.2f} (by CPU per request {by_cpu:.2f}): "
          "the most any Flask endpoint making these round trips reaches here")


if __name__ == "__main__":
    main()
