"""Statistics over HTTP on a database of a million batches, against a trivial endpoint.

The target (issue): "Statistics: a province-wide monthly pass-rate query over 1,000,000
batches, timed over HTTP with no response cache: under 200 ms, because it reads the aggregate."

The real server is started (gunicorn, 2 sync workers, production config) on loopback, and
each query is sent N times, one after the other, with urllib (a new connection each time, as
gunicorn's sync workers close them). The time is from sending the request to having read
the whole body. There is no response cache in the application, and every request
authenticates its bearer token and reloads the reference trees, as in production.

* month    - /api/stats/pass-rates, province-wide, all products, 36 months by month
* category - the same, broken down by top-level category
* both     - the same, broken down by top-level category x city
* year     - the same 36 months grouped by year
* healthz  - GET /healthz: the cost of HTTP, gunicorn and Flask alone, for scale

    python bench/stats_speed.py [--database-url URL] [--existing 1000000]
        [--requests 50] [--seed 1] [--reuse]
"""
from __future__ import annotations

import argparse
import json
import math
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from common import BENCH_DIR, MONTHS, ROOT, USERNAME, count_batches, default_sqlite_url, prepare_database

from core.auth.services import issue_token
from core.clock import local_today, month_of, shift_month
from core.extensions import db

GUNICORN = str(Path(sys.executable).parent / "gunicorn")  # beside the running interpreter
TARGET_MS = 200
WARMUP = 5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str, token: str | None) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    with urllib.request.urlopen(request, timeout=30) as response:
        return response.status, response.read()


def start_server(database_url: str, port: int, log: Path) -> subprocess.Popen:
    env = {**os.environ, "DATABASE_URL": database_url, "APP_CONFIG": "production", "SECRET_KEY": "bench"}
    with open(log, "wb") as out:
        proc = subprocess.Popen([GUNICORN, "-w", "2", "-b", f"127.0.0.1:{port}", "wsgi:app"],
                                cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {log}")
        try:
            if get(f"http://127.0.0.1:{port}/readyz", None)[0] == 200:
                return proc
        except OSError:
            pass
        time.sleep(0.2)
    stop_server(proc)
    raise SystemExit(f"gunicorn did not become ready in 60 s; see {log}")


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def time_query(url: str, token: str | None, n: int) -> tuple[list[float], bytes]:
    """Milliseconds per request for `n` sequential requests, after a few untimed ones."""
    for _ in range(WARMUP):
        get(url, token)
    times = []
    for _ in range(n):
        started = time.perf_counter()
        status, body = get(url, token)
        times.append((time.perf_counter() - started) * 1000)
        if status != 200:
            raise SystemExit(f"{url} answered {status}: {body[:300]!r}")
    return times, body


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default=default_sqlite_url("stats.sqlite"))
    parser.add_argument("--existing", type=int, default=1_000_000, help="batches in the database")
    parser.add_argument("--requests", type=int, default=50, help="timed requests per query")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--reuse", action="store_true", help="keep a database that already holds --existing")
    args = parser.parse_args()

    app = prepare_database(args.database_url, args.existing, args.seed, args.reuse)
    with app.app_context():
        batches = count_batches()
        token = issue_token(db.session, USERNAME)
        db.session.remove()
        db.engine.dispose()
    to = month_of(local_today())
    span = f"from={shift_month(to, -(MONTHS - 1))}&to={to}"
    queries = {
        "month": f"/api/stats/pass-rates?period=month&{span}",
        "category": f"/api/stats/pass-rates?period=month&{span}&breakdown=category",
        "both": f"/api/stats/pass-rates?period=month&{span}&breakdown=both",
        "year": f"/api/stats/pass-rates?period=year&{span}",
        "healthz": "/healthz",
    }

    port = free_port()
    BENCH_DIR.mkdir(parents=True, exist_ok=True)
    log = BENCH_DIR / f"gunicorn-{port}.log"
    proc = start_server(args.database_url, port, log)
    results = {}
    try:
        for name, path in queries.items():
            times, body = time_query(f"http://127.0.0.1:{port}{path}", token, args.requests)
            results[name] = (sorted(times), body)
    finally:
        stop_server(proc)

    counted = sum(r["batches"] for r in json.loads(results["month"][1]))
    print(f"\nbatches in database: {batches:,}; counted by the monthly query over {MONTHS} months: {counted:,}")
    print(f"{args.requests} sequential requests per query after {WARMUP} untimed; gunicorn -w 2; log {log}")
    print(f"load average (1/5/15 min) at the end: {' / '.join(f'{x:.2f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} CPUs")
    print(f"{'query':<10}{'rows':>6}{'p50 ms':>9}{'p95 ms':>9}{'max ms':>9}{'p50/healthz':>13}   path")
    base = statistics.median(results["healthz"][0])
    for name, (times, body) in results.items():
        rows = len(json.loads(body)) if name != "healthz" else 1
        p50, p95 = statistics.median(times), times[math.ceil(0.95 * len(times)) - 1]
        print(f"{name:<10}{rows:>6}{p50:>9.1f}{p95:>9.1f}{times[-1]:>9.1f}{p50 / base:>12.1f}x   {queries[name]}")
    worst = max(times[math.ceil(0.95 * len(times)) - 1] for name, (times, _) in results.items() if name != "healthz")
    print(f"slowest statistics p95: {worst:.1f} ms; target under {TARGET_MS} ms "
          f"{'met' if worst < TARGET_MS else 'NOT met'}")


if __name__ == "__main__":
    main()
