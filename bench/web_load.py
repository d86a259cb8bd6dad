"""Web load: gunicorn with several workers on PostgreSQL, 50 users in a closed loop (wrk).

> 50 concurrent users, closed loop, no think time, mixing batch writes, statistics reads and
> alert reads: at least 300 requests/s, at least a third of a trivial JSON endpoint's
> throughput served the same way, p95 under 250 ms (2-core machine).

Setup (not timed): the database is migrated (Alembic), filled by `flask demo seed` (three
years of demo records through the real import) and scanned once (so alerts exist); a `load`
administrator gets a bearer token. gunicorn then serves `wsgi:app` (production config) on
loopback and wrk (Debian package `wrk` 4.1.0) runs two rounds with the same connections,
threads and duration:

* mixed:   per connection, in turn: POST /api/batches (a new batch; 1 in 5 requests),
           GET /api/stats/pass-rates (province, 12 months by city; 2 in 5) and
           GET /api/alerts (2 in 5), each with the bearer token;
* trivial: GET /healthz (no database, no auth): the ceiling of gunicorn + Flask here.

wrk keeps every connection busy (a new request as soon as the answer arrives: a closed loop
without think time) and reports requests/s and latency percentiles. Any non-2xx answer or
socket error is counted and printed; a round with one is not a valid result.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, func, make_url, select, text  # noqa: E402

from config import _normalise_db_url  # noqa: E402

BENCH_DIR = Path("/tmp/bench")
WRK = shutil.which("wrk") or "/usr/bin/wrk"
GUNICORN = str(Path(sys.executable).parent / "gunicorn")
ENTERPRISE = "91330106MA2B3C4D5"  # + check digit: registered in Xihu, Hangzhou

LUA = r"""
local token = "__TOKEN__"
local run = "__RUN__"
local auth = {["Authorization"] = "Bearer " .. token, ["Content-Type"] = "application/json"}
local stats = "/api/stats/pass-rates?region=330000&breakdown=region&from=__FROM__&to=__TO__"
local alerts = "/api/alerts?limit=50"
local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

function request()
  counter = counter + 1
  local k = counter % 5
  if k == 0 then
    local body = string.format(
      '{"sample_no":"L%s-%d-%d","sampled_on":"__DAY__","reported_on":"__DAY__",' ..
      '"category":"food.dairy.liquid_milk","region":"330106",' ..
      '"enterprise_credit_code":"__CODE__","enterprise_name":"杭州示例乳业有限公司",' ..
      '"product":"纯牛奶","stage":"production","conclusion":"pass","items":[]}', run, tid, counter)
    return wrk.format("POST", "/api/batches", auth, body)
  elseif k == 1 or k == 3 then
    return wrk.format("GET", stats, auth)
  else
    return wrk.format("GET", alerts, auth)
  end
end

errs = {}
function response(status, headers, body)
  if status >= 300 then errs[status] = (errs[status] or 0) + 1 end
end
""" + r"""
function done(summary, latency, requests)
  local e = summary.errors
  local codes = ""
  for _, t in ipairs(threads or {}) do
    for code, n in pairs(t:get("errs") or {}) do codes = codes .. code .. "x" .. n .. " " end
  end
  io.write(string.format(
    'RESULT {"requests":%d,"seconds":%.3f,"p50":%.3f,"p95":%.3f,"p99":%.3f,"max":%.3f,' ..
    '"non2xx":%d,"socket_errors":%d,"statuses":"%s"}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1e3,
    latency:percentile(95) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    e.status, e.connect + e.read + e.write + e.timeout, codes))
end
"""
DONE_ONLY = "function done" + LUA.split("function done")[1]  # the trivial round: plain GETs


def check_digit_code() -> str:
    from inspection.credit_code import check_digit

    return ENTERPRISE + check_digit(ENTERPRISE)


def prepare(database_url: str, months: int, reuse: bool) -> str:
    """Migrate, seed the demo data, scan once, and return a bearer token of an administrator."""
    from flask_migrate import upgrade

    from core.auth.models import User
    from core.auth.services import create_user, issue_token
    from core.extensions import db
    from factory import create_app
    from inspection.demo import seed_demo
    from warning.models import Scan
    from warning.scan import run_scan

    app = create_app("development", {"DATABASE_URL": database_url})
    with app.app_context():
        upgrade()
        started = time.monotonic()
        if reuse and db.session.scalar(select(func.count()).select_from(Scan)):
            print("  --reuse: the database is seeded and scanned already")
        else:
            for line in seed_demo(db.session, months=months):
                print("  seed:", line)
        if not db.session.scalar(select(func.count()).select_from(Scan)):
            scan = run_scan(db.session, None, "bench")
            print(f"  scan: {scan.series_assessed} series, {scan.alerts_raised} alerts raised")
        if db.session.scalar(select(User).where(User.username == "load")) is None:
            create_user(db.session, "load", "load-bench-password", ["admin"], "330000")
        token = issue_token(db.session, "load")
        print(f"  setup took {time.monotonic() - started:.0f} s")
        db.session.remove()
    return token


def cpu_per_request(database_url: str, token: str, paths: dict[str, str], write: dict, n: int = 40) -> dict:
    """Application CPU time per request (time.process_time, in this process, Flask test client,
    PostgreSQL's own CPU not included): unlike wall time, it hardly depends on what else runs."""
    from factory import create_app

    app = create_app("production", {"DATABASE_URL": database_url, "SECRET_KEY": "bench-only-secret"})
    client, headers = app.test_client(), {"Authorization": f"Bearer {token}"}
    calls = {name: (lambda p=path: client.get(p, headers=headers)) for name, path in paths.items()}
    calls["write"] = lambda: client.post("/api/batches", headers=headers,
                                         json={**write, "sample_no": f"LCPU-{time.time_ns()}"})
    out = {}
    for name, call in calls.items():
        assert call().status_code < 300, name
        started = time.process_time()
        for _ in range(n):
            call()
        out[name] = (time.process_time() - started) / n * 1000
    return out


def ensure_database(database_url: str) -> None:
    url = make_url(_normalise_db_url(database_url))
    admin = create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        if not conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": url.database}):
            conn.execute(text(f'CREATE DATABASE "{url.database}"'))
    admin.dispose()


def start_gunicorn(database_url: str, port: int, workers: int, threads: int, log: Path) -> subprocess.Popen:
    """The application (production config) under gunicorn, once `/readyz` answers."""
    env = {"APP_CONFIG": "production", "SECRET_KEY": "bench-only-secret", "DATABASE_URL": database_url}
    return serve("wsgi:app", env, port, workers, threads, log, "/readyz", 180)


def serve(app: str, env: dict, port: int, workers: int, threads: int, log: Path, probe: str,
          wait: float) -> subprocess.Popen:
    """gunicorn serving `app` on loopback with the repository's gunicorn.conf.py (read from the
    root: gthread, keep-alive), once `probe` answers 200 (at most `wait` seconds)."""
    args = [GUNICORN, "-w", str(workers), "-b", f"127.0.0.1:{port}", "--threads", str(threads)]
    if threads == 1:
        args += ["-k", "sync"]
    with log.open("w") as out:
        proc = subprocess.Popen([*args, app], cwd=ROOT, env={**os.environ, **env, "PYTHONPATH": str(ROOT)},
                                stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + wait  # four workers importing the app on a busy machine took over a minute
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"gunicorn exited with {proc.returncode}; see {log}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{probe}", timeout=2) as r:
                if r.status == 200:
                    return proc
        except OSError:
            time.sleep(0.3)
    proc.terminate()
    raise SystemExit(f"gunicorn did not become ready in {wait:.0f} s; see {log}")


def post_once(port: int, token: str, body: dict) -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}/api/batches", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {token}",
                                              "Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as r:
            return r.status
    except urllib.error.HTTPError as e:
        return e.code


TICK = os.sysconf("SC_CLK_TCK")


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / TICK


def _children(pid: int) -> list[int]:
    try:
        return [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _machine_busy() -> float:
    """CPU seconds the whole machine spent busy so far (every process, every core)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values[:8]) - values[3] - values[4]) / TICK  # minus idle and iowait


class CpuMeter:
    """CPU seconds of the gunicorn processes, of the PostgreSQL backends serving its database,
    of wrk and of the whole machine over one round. Per request, these depend far less on what
    else runs than requests per second do (they still rise with it: the caches are shared)."""

    def __init__(self, server: subprocess.Popen, engine):
        self.server, self.engine = server, engine

    def _backends(self) -> list[int]:
        with self.engine.connect() as conn:
            return list(conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                                          "AND pid <> pg_backend_pid()")))

    def sample(self) -> dict[str, float | dict]:
        app = [self.server.pid, *_children(self.server.pid)]
        return {"app": {p: _cpu_seconds(p) for p in app}, "db": {p: _cpu_seconds(p) for p in self._backends()},
                "wrk": resource.getrusage(resource.RUSAGE_CHILDREN), "machine": _machine_busy()}

    @staticmethod
    def spent(before: dict, after: dict) -> dict[str, float]:
        def diff(key):  # a backend that appeared during the round counts from zero
            return sum(v - before[key].get(p, 0.0) for p, v in after[key].items())
        w0, w1 = before["wrk"], after["wrk"]
        out = {"app": diff("app"), "db": diff("db"),
               "wrk": (w1.ru_utime + w1.ru_stime) - (w0.ru_utime + w0.ru_stime),
               "machine": after["machine"] - before["machine"]}
        out["rest"] = max(0.0, out["machine"] - out["app"] - out["db"] - out["wrk"])
        return out


def run_wrk(script: str, url: str, connections: int, threads: int, seconds: int,
            meter: CpuMeter | None = None) -> dict:
    path = BENCH_DIR / f"wrk-{os.getpid()}.lua"
    path.write_text(script.replace("__RUN__", str(time.time_ns())))  # new sample numbers each round
    before = meter.sample() if meter else None
    done = subprocess.run([WRK, "-t", str(threads), "-c", str(connections), "-d", f"{seconds}s",
                           "--timeout", "10s", "-s", str(path), url], capture_output=True, text=True)
    after = meter.sample() if meter else None
    line = next((l for l in done.stdout.splitlines() if l.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed:\n{done.stdout}\n{done.stderr}")
    result = json.loads(line[len("RESULT "):])
    result["rps"] = result["requests"] / result["seconds"]
    result["load"] = os.getloadavg()[0]
    if meter:
        result["cpu"] = {k: v / result["requests"] * 1000 for k, v in CpuMeter.spent(before, after).items()}
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:55433/web_load")
    parser.add_argument("--months", type=int, default=36, help="demo history (flask demo seed --months)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per worker (gthread; 1: sync workers)")
    parser.add_argument("--connections", type=int, default=50, help="concurrent users (closed loop)")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--seconds", type=int, default=30, help="duration of each round")
    parser.add_argument("--reuse", action="store_true", help="skip the demo seed if the database was scanned")
    args = parser.parse_args()
    if not Path(WRK).exists():
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    BENCH_DIR.mkdir(exist_ok=True)
    ensure_database(args.database_url)
    print(f"setup: {args.database_url}")
    token = prepare(args.database_url, args.months, args.reuse)
    engine = create_engine(_normalise_db_url(args.database_url))
    with engine.connect() as conn:
        batches = conn.scalar(text("SELECT count(*) FROM batches"))
        alerts = conn.scalar(text("SELECT count(*) FROM alerts"))
    print(f"database: {batches:,} batches, {alerts} alerts")

    from core.clock import local_today, month_of, shift_month

    today = local_today()
    to = month_of(today)
    script = (LUA.replace("__TOKEN__", token)
              .replace("__DAY__", today.isoformat()).replace("__CODE__", check_digit_code())
              .replace("__FROM__", shift_month(to, -11)).replace("__TO__", to))
    write = {"sampled_on": today.isoformat(), "category": "food.dairy.liquid_milk", "region": "330106",
             "enterprise_credit_code": check_digit_code(), "enterprise_name": "杭州示例乳业有限公司",
             "product": "纯牛奶", "stage": "production", "conclusion": "pass", "items": []}
    port = 18000 + os.getpid() % 1000
    log = BENCH_DIR / f"gunicorn-load-{port}.log"
    server = start_gunicorn(args.database_url, port, args.workers, args.threads, log)
    meter = CpuMeter(server, engine)
    try:
        # register the enterprise once, so the concurrent writes only reference it
        status = post_once(port, token, {**write, "sample_no": f"LWARM-{time.time_ns()}"})
        assert status == 201, f"warm-up write answered {status}"
        run_wrk(script, f"http://127.0.0.1:{port}", args.connections, args.wrk_threads, 3)  # warm-up
        mixed = run_wrk(script, f"http://127.0.0.1:{port}", args.connections, args.wrk_threads, args.seconds,
                        meter)
        trivial = run_wrk(DONE_ONLY, f"http://127.0.0.1:{port}/healthz", args.connections,
                          args.wrk_threads, args.seconds, meter)
    finally:
        server.terminate()
        server.wait(30)
    cpu = cpu_per_request(args.database_url, token, {
        "trivial": "/healthz", "stats": f"/api/stats/pass-rates?region=330000&breakdown=region"
                                         f"&from={shift_month(to, -11)}&to={to}",
        "alerts": "/api/alerts?limit=50"}, write)
    with engine.connect() as conn:
        written = conn.scalar(text("SELECT count(*) FROM batches")) - batches

    load = os.getloadavg()
    print(f"\ngunicorn -w {args.workers} {f'-k gthread --threads {args.threads}' if args.threads > 1 else '-k sync'}, "
          f"wrk -t {args.wrk_threads} -c {args.connections} -d {args.seconds}s, "
          f"{os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"{'round':<8} {'req/s':>8} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'max ms':>8} {'non-2xx':>8} "
          f"{'errors':>7} {'load':>6}   CPU ms per request: {'gunicorn':>8} {'postgres':>8} {'wrk':>5} {'sum':>5} "
          f"{'rest':>5}  {'req/s on 2 idle cores':>21}")
    capacity = {}
    for name, r in (("mixed", mixed), ("trivial", trivial)):
        c = r["cpu"]
        own = c["app"] + c["db"] + c["wrk"]
        capacity[name] = os.cpu_count() * 1000 / own
        print(f"{name:<8} {r['rps']:>8.0f} {r['p50']:>8.1f} {r['p95']:>8.1f} {r['p99']:>8.1f} {r['max']:>8.1f} "
              f"{r['non2xx']:>8} {r['socket_errors']:>7} {r['load']:>6.2f}   {'':>19} {c['app']:>8.2f} {c['db']:>8.2f} "
              f"{c['wrk']:>5.2f} {own:>5.2f} {c['rest']:>5.2f}  {capacity[name]:>21.0f}")
    ratio = mixed["rps"] / trivial["rps"]
    print(f"mixed / trivial throughput: {ratio:.2f}, by CPU per request (the steady ratio on a shared machine): "
          f"{capacity['mixed'] / capacity['trivial']:.2f}; batches written in the timed round and warm-up: {written:,}")
    print("(CPU: gunicorn = master and workers, postgres = the backends of this database, rest = every other "
          "process on the machine; req/s on 2 idle cores = 2,000 ms / (gunicorn + postgres + wrk))")
    engine.dispose()
    mixed_cpu = (cpu["write"] + 2 * cpu["stats"] + 2 * cpu["alerts"]) / 5
    print("application CPU per request (ms, in-process, without PostgreSQL): "
          + ", ".join(f"{k} {v:.1f}" for k, v in cpu.items())
          + f"; mixed average {mixed_cpu:.1f}: at most {2000 / mixed_cpu:.0f} req/s on 2 idle cores "
            f"before PostgreSQL's share; trivial at most {2000 / cpu['trivial']:.0f}")
    print(f"targets: >= 300 req/s {'met' if mixed['rps'] >= 300 else 'MISSED'}; "
          f">= 1/3 of trivial {'met' if ratio >= 1 / 3 else 'MISSED'}; "
          f"p95 < 250 ms {'met' if mixed['p95'] < 250 else 'MISSED'}"
          + ("" if mixed["non2xx"] == 0 and mixed["socket_errors"] == 0
             else f"; INVALID: errors in the round (status x count: {mixed['statuses'] or 'none'})"))


if __name__ == "__main__":
    main()
