"""What the first requests to a new gunicorn process cost, next to the same requests warm.

A process is new after every deploy, restart or worker recycle; whoever reaches it first pays
for whatever the process set up lazily. This starts gunicorn (production config, the
repository's gunicorn.conf.py with its `post_worker_init` warm-up) with one process and one
thread, so every request lands on the same new process, and times each API read below in turn,
then again `--rounds - 1` times. It prints each path's first time, the median of the later
ones and their ratio. `--no-warm-up` starts gunicorn without the warm-up (the baseline).

    python bench/first_request.py --database-url postgresql://postgres@127.0.0.1:55433/web_load --reuse
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.web_load import BENCH_DIR, ensure_database, prepare, serve  # noqa: E402

PATHS = ["/readyz", "/api/batches?region=330100&limit=25",
         "/api/stats/pass-rates?region=330000&breakdown=region", "/api/alerts?limit=50",
         "/api/batches?search=牛奶&limit=25", "/api/cases?limit=25"]
NO_HOOKS = "# the same settings without post_worker_init\nworker_class = 'gthread'\n"


def timed_get(port: int, path: str, token: str) -> float:
    url = f"http://127.0.0.1:{port}" + urllib.parse.quote(path, safe="/?=&")
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    started = time.perf_counter()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
    return (time.perf_counter() - started) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:55433/web_load")
    parser.add_argument("--months", type=int, default=36, help="demo history (flask demo seed --months)")
    parser.add_argument("--reuse", action="store_true", help="skip the demo seed if the database was scanned")
    parser.add_argument("--rounds", type=int, default=6)
    parser.add_argument("--port", type=int, default=8797)
    parser.add_argument("--no-warm-up", action="store_true", help="gunicorn without post_worker_init")
    args = parser.parse_args()

    ensure_database(args.database_url)
    token = prepare(args.database_url, args.months, args.reuse)
    env = {"APP_CONFIG": "production", "SECRET_KEY": "bench-only-secret", "DATABASE_URL": args.database_url}
    BENCH_DIR.mkdir(exist_ok=True)
    app = "wsgi:app"
    if args.no_warm_up:  # a config file of its own replaces the repository's (and its hook)
        conf = Path(tempfile.mkdtemp(dir=BENCH_DIR)) / "gunicorn.conf.py"
        conf.write_text(NO_HOOKS)
        env["GUNICORN_CMD_ARGS"] = f"--config {conf}"
    # /healthz as the readiness probe: it touches neither the database nor the ORM, so the
    # process is as new as a user would find it
    server = serve(app, env, args.port, 1, 1, BENCH_DIR / "first_request.log", "/healthz", 180)
    try:
        times = {path: [] for path in PATHS}
        for _ in range(args.rounds):
            for path in PATHS:
                times[path].append(timed_get(args.port, path, token))
    finally:
        server.terminate()
        server.wait()
    print(f"gunicorn 1 process x 1 thread, warm-up {'off' if args.no_warm_up else 'on'}, {args.rounds} rounds")
    print(f"{'path':58} {'first ms':>9} {'later ms':>9} {'ratio':>6}")
    for path, spent in times.items():
        later = statistics.median(spent[1:])
        print(f"{path:58} {spent[0]:9.1f} {later:9.1f} {spent[0] / later:6.1f}")
    firsts = sum(spent[0] for spent in times.values())
    print(f"first round all told {firsts:.0f} ms; a later round {sum(statistics.median(s[1:]) for s in times.values()):.0f} ms")


if __name__ == "__main__":
    main()
