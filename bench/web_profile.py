"""Where the web load's requests spend CPU: per request type, in this process (Flask test client,
production config), the CPU milliseconds, the SQL statements SQLAlchemy sent and, with
`--profile`, a cProfile (CPU clock) of the hottest functions.

Run against the database `bench/web_load.py` seeded (it issues its own token for the `load`
user that script creates). CPU time depends less on what else runs than wall time, but on a
busy machine it still drifts by 10-20 %; `--instructions` counts the instructions each request
executes instead (valgrind's callgrind, instrumenting only the timed requests): slow (about a
minute), but the same figure whatever else runs, so a change of a few percent shows.

    python bench/web_profile.py --database-url postgresql://postgres@127.0.0.1:55438/web_load
    python bench/web_profile.py --database-url ... --profile stats --top 40
    python bench/web_profile.py --database-url ... --instructions -n 20
"""
from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def requests(client, token: str):
    """The web load's request types, each a function making one request (as bench/web_load.py)."""
    from bench.web_load import check_digit_code
    from core.clock import local_today, month_of, shift_month

    headers = {"Authorization": f"Bearer {token}"}
    today = local_today()
    to = month_of(today)
    stats = f"/api/stats/pass-rates?region=330000&breakdown=region&from={shift_month(to, -11)}&to={to}"
    write = {"sampled_on": today.isoformat(), "reported_on": today.isoformat(),
             "category": "food.dairy.liquid_milk", "region": "330106",
             "enterprise_credit_code": check_digit_code(), "enterprise_name": "杭州示例乳业有限公司",
             "product": "纯牛奶", "stage": "production", "conclusion": "pass", "items": []}
    return {
        "trivial": lambda: client.get("/healthz"),
        "stats": lambda: client.get(stats, headers=headers),
        "alerts": lambda: client.get("/api/alerts?limit=50", headers=headers),
        "write": lambda: client.post("/api/batches", headers=headers,
                                     json={**write, "sample_no": f"LPROF-{time.time_ns()}"}),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:55433/web_load")
    parser.add_argument("-n", type=int, default=200, help="requests of each type")
    parser.add_argument("--profile", choices=("trivial", "stats", "alerts", "write"), action="append",
                        default=[], help="cProfile this request type (repeatable)")
    parser.add_argument("--top", type=int, default=30)
    parser.add_argument("--sort", default="tottime", help="pstats sort key (tottime, cumulative)")
    parser.add_argument("--instructions", action="store_true",
                        help="count instructions per request under valgrind (callgrind) instead of CPU time")
    parser.add_argument("--under-callgrind", help=argparse.SUPPRESS)  # set when re-run under valgrind
    args = parser.parse_args()
    if args.instructions:
        return count_instructions(args)

    from sqlalchemy import event

    from core.auth.services import issue_token
    from core.extensions import db
    from factory import create_app

    app = create_app("production", {"DATABASE_URL": args.database_url, "SECRET_KEY": "bench-only-secret"})
    with app.app_context():
        token = issue_token(db.session, "load")
        db.session.remove()
        engine = db.engine
    statements: list[str] = []
    if not args.under_callgrind:  # a connection event slows every statement: not when counting instructions
        event.listen(engine, "before_cursor_execute",
                     lambda conn, cursor, sql, params, context, many: statements.append(sql.split()[0]))
    client = app.test_client()
    print(f"{'request':<8} {'CPU ms':>7} {'statements':>11}  (n = {args.n}; kinds of statement)")
    for name, call in requests(client, token).items():
        for _ in range(5):  # warm: compiled statements, pooled connections, caches
            response = call()
            assert response.status_code < 300, (name, response.status_code, response.get_data(as_text=True))
        statements.clear()
        profiler = cProfile.Profile(time.process_time) if name in args.profile else None
        started = time.process_time()
        if profiler:
            profiler.enable()
        if args.under_callgrind:
            callgrind("-z", "-i on")
        for _ in range(args.n):
            call()
        if args.under_callgrind:
            callgrind("-i off", f"-d {name}")
        if profiler:
            profiler.disable()
        cpu = (time.process_time() - started) / args.n * 1000
        kinds: dict[str, int] = {}
        for s in statements:
            kinds[s] = kinds.get(s, 0) + 1
        print(f"{name:<8} {cpu:>7.2f} {len(statements) / args.n:>11.1f}  "
              + ", ".join(f"{k} {v / args.n:g}" for k, v in sorted(kinds.items())))
        if profiler:
            pstats.Stats(profiler).sort_stats(args.sort).print_stats(args.top)


def callgrind(*commands: str) -> None:
    for command in commands:
        subprocess.run(["callgrind_control", *command.split(), str(os.getpid())], check=True,
                       stdout=subprocess.DEVNULL)


def count_instructions(args) -> None:
    """Re-run this script under callgrind with instrumentation off but around each request type's
    timed loop, and print instructions per request from the dumps."""
    with tempfile.TemporaryDirectory() as out:
        subprocess.run(["valgrind", "--tool=callgrind", "--instr-atstart=no",
                        f"--callgrind-out-file={out}/cg.%p", sys.executable, __file__,
                        "--database-url", args.database_url, "-n", str(args.n), "--under-callgrind", "yes"],
                       check=True, env={**os.environ, "PYTHONMALLOC": "malloc"},
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(f"{'request':<8} {'instructions per request (millions)':>36}  (n = {args.n}, callgrind)")
        for dump in sorted(Path(out).glob("cg.*.*"), key=lambda p: int(p.suffix[1:])):
            text = dump.read_text()
            name = next(l for l in text.splitlines() if l.startswith("desc: Trigger")).split()[-1]
            total = int(next(l for l in text.splitlines() if l.startswith("totals:")).split()[1])
            print(f"{name:<8} {total / args.n / 1e6:>36.2f}")


if __name__ == "__main__":
    main()
