"""Shared benchmark setup: a migrated database holding N realistic batches, and row generation.

The database is built the way production builds it (Alembic migrations via
`flask_migrate.upgrade`, never `create_all`; reference data from `seed_reference`), and the
existing batches are loaded through the real import path (`import_batches`) in chunks, so the
series aggregate is exactly what the application itself would have written.

Rows are generated, not sampled from real data: leaf categories and county regions from the
seeded CSV files, a pool of ~1,500 enterprises with valid GB 32100 credit codes (about 80 %
registered in Zhejiang), ~3 % failed batches with failed test items, farm produce sometimes
bought from a named seller without a credit code, and a share of rows naming enterprises the
database does not know yet (registered by the import).
"""
from __future__ import annotations

import csv
import io
import random
import sys
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import create_engine, func, select, text  # noqa: E402

from config import _normalise_db_url  # noqa: E402
from core.auth.models import User  # noqa: E402
from core.auth.services import create_user  # noqa: E402
from core.clock import local_today  # noqa: E402
from core.extensions import db  # noqa: E402
from core.reference.seed import DATA, seed_reference  # noqa: E402
from factory import create_app  # noqa: E402
from inspection.credit_code import ALPHABET, check_digit  # noqa: E402
from inspection.imports.importer import ImportOptions, import_batches  # noqa: E402
from inspection.imports.rows import COLUMNS  # noqa: E402
from inspection.models import Batch  # noqa: E402

BENCH_DIR = Path("/tmp/bench")
USERNAME = "bench"
MONTHS = 36  # the generated history spans this many months, ending today
ENTERPRISES = 1_500
PREFILL_CHUNK = 100_000
FAIL_SHARE = 0.03
OUTSIDE_REGIONS = ("320102", "310101", "440305", "110105", "350203", "370202")  # not Zhejiang

_BRANDS = ("恒丰", "绿源", "康宁", "金穗", "天目", "西湖", "新安", "瓯江", "雁荡", "钱塘", "千岛", "良品")
_WORDS = ("食品", "乳业", "粮油", "酿造", "药业", "制药", "农业", "日化", "电器", "纺织", "塑业", "调味品")
_AGENCIES = ("浙江省市场监督管理局", "杭州市市场监督管理局", "宁波市市场监督管理局",
             "温州市市场监督管理局", "金华市市场监督管理局")
_LABS = ("浙江省食品药品检验研究院", "浙江方圆检测集团股份有限公司", "杭州市食品药品检验研究院",
         "宁波市食品检验检测研究院", "温州市质量技术检测科学研究院", "浙江省产品质量安全检测研究院")
_SPECS = ("500g/袋", "250mL/盒", "1kg/桶", "5L/瓶", "100片/盒", "散装称重", "12粒×2板/盒")
_ITEMS = ("铅(以Pb计)", "菌落总数", "大肠菌群", "二氧化硫残留量", "苯甲酸及其钠盐(以苯甲酸计)",
          "甲醛", "含量测定", "标签标识", "镉(以Cd计)", "毒死蜱", "氯霉素", "过氧化值")
_STAGES = ("production", "distribution", "distribution", "catering", "online", "流通", "生产")


def default_sqlite_url(name: str) -> str:
    return f"sqlite:///{BENCH_DIR / name}"


def _csv(name: str) -> list[dict[str, str]]:
    with open(DATA / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


# ---------------------------------------------------------------- database

def reset_database(url: str) -> None:
    """Start from nothing: delete the SQLite file, or drop and recreate PostgreSQL's schema."""
    url = _normalise_db_url(url)
    if url.startswith("sqlite:///"):
        path = Path(url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(str(path) + suffix).unlink(missing_ok=True)
    elif url.startswith("postgresql"):
        engine = create_engine(url)
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        raise SystemExit(f"unsupported database URL {url}")


def make_app(url: str) -> Flask:
    return create_app("production", {"DATABASE_URL": url, "SECRET_KEY": "bench"})


def count_batches() -> int:
    return db.session.scalar(select(func.count()).select_from(Batch))


def user_id() -> int:
    """The benchmark's admin user (created if missing)."""
    uid = db.session.scalar(select(User.id).where(User.username == USERNAME))
    if uid is None:
        uid = create_user(db.session, USERNAME, "bench-password", ["admin"], "330000").id
    return uid


def prepare_database(url: str, existing: int, seed: int, reuse: bool) -> Flask:
    """Return an app on a database holding at least `existing` batches; print what it cost.

    With `reuse`, a database already holding that many batches is used as it is (it must
    have been built with the same --seed, so the enterprise pool matches).
    """
    if reuse:
        app = make_app(url)
        try:
            with app.app_context():
                upgrade()  # the schema may have moved on since the database was built
                have = count_batches()
            if have >= existing:
                print(f"setup: reusing {url} ({have:,} batches)")
                return app
        except Exception as exc:  # noqa: BLE001 - no schema yet, or not at all usable
            print(f"setup: cannot reuse {url}: {exc.__class__.__name__}: {str(exc)[:200]}")
        print(f"setup: {url} does not hold {existing:,} batches; rebuilding it")
    started = time.perf_counter()
    reset_database(url)
    app = make_app(url)
    with app.app_context():
        upgrade()
        seed_reference(db.session)
        uid = user_id()
        db.session.remove()
        maker = RowMaker(seed)
        done = 0
        while done < existing:
            n = min(PREFILL_CHUNK, existing - done)
            content = to_csv(maker.rows(n, tag="P", start=done, new_enterprise_share=0.0))
            t0 = time.perf_counter()
            result = import_batches(db.session, content, ImportOptions(
                filename=f"prefill-{done}.csv", user_id=uid, max_bytes=1 << 30, max_rows=10_000_000))
            db.session.remove()
            check_import(result, n)
            done += n
            took = time.perf_counter() - t0
            print(f"setup: loaded {done:>9,} batches (chunk {n:,} rows in {took:5.1f} s, "
                  f"{n / took:,.0f} rows/s)", flush=True)
        print(f"setup: database built in {time.perf_counter() - started:,.1f} s; "
              f"batches in database: {count_batches():,}")
        db.session.remove()
    return app


def check_import(result, expected: int) -> None:
    if result.rejected or result.accepted != expected:
        raise SystemExit(f"import accepted {result.accepted:,} of {expected:,} rows; "
                         f"first rejections: {result.rejected[:5]}")


# ---------------------------------------------------------------- rows

@dataclass
class Row:
    """One generated batch, in plain Python values (before CSV or column form)."""

    sample_no: str
    sampled_on: date
    reported_on: date | None
    production_date: date | None
    category: str
    region: str
    result: str  # as written in the file: pass/fail or 合格/不合格
    stage: str | None
    credit_code: str | None
    name: str | None
    product: str
    brand: str | None
    specification: str | None
    lot: str | None
    agency: str
    laboratory: str
    report_no: str
    failed_items: list[str] = field(default_factory=list)
    fail_reason: str | None = None

    @property
    def failed(self) -> bool:
        return self.result in ("fail", "不合格")


class RowMaker:
    """Deterministic generator of realistic import rows (see the module docstring)."""

    def __init__(self, seed: int):
        categories = _csv("categories.csv")
        parents = {c["parent_code"] for c in categories}
        self.leaves = [(c["code"], c["name_zh"]) for c in categories if c["code"] not in parents]
        self.farm_leaves = [leaf for leaf in self.leaves if leaf[0].startswith("farm.")]
        regions = _csv("regions.csv")
        self.counties = [r["code"] for r in regions if r["level"] == "3"]
        self.city_names = [r["name_zh"] for r in regions if r["level"] == "2"]
        self.rng = random.Random(seed)
        pool_rng = random.Random(f"enterprises-{seed}")  # the same pool whatever the run
        self.pool = [self._enterprise(pool_rng) for _ in range(ENTERPRISES)]
        self.today = local_today()

    def _enterprise(self, rng: random.Random) -> tuple[str, str]:
        region = rng.choice(self.counties) if rng.random() < 0.8 else rng.choice(OUTSIDE_REGIONS)
        body = "91" + region + "".join(rng.choice(ALPHABET) for _ in range(9))
        name = f"{rng.choice(self.city_names)}{rng.choice(_BRANDS)}{rng.choice(_WORDS)}有限公司"
        return body + check_digit(body), name

    def rows(self, count: int, tag: str, start: int = 0, new_enterprise_share: float = 0.05,
             months: int = MONTHS) -> list[Row]:
        """`count` rows with sample numbers `{tag}{start+i}`, sampled over the last `months` months.

        A share of rows name new enterprises; each appears in about five rows, the first of
        which registers it.
        """
        first = date(self.today.year, self.today.month, 1)
        for _ in range(months - 1):
            first = (first - timedelta(days=1)).replace(day=1)
        span = max(1, (self.today - first).days)  # sampled_on in [first, today)
        rng = random.Random(f"{self.rng.random()}-{tag}-{start}")
        fresh = [self._enterprise(rng) for _ in range(max(1, int(count * new_enterprise_share / 5)))]
        out = []
        for i in range(start, start + count):
            code, name = self._producer(rng, fresh if rng.random() < new_enterprise_share else None)
            category, product = rng.choice(self.leaves)
            if code is None and not category.startswith("farm."):
                category, product = rng.choice(self.farm_leaves)
            sampled = first + timedelta(days=rng.randrange(span))
            failed = rng.random() < FAIL_SHARE
            reported = sampled + timedelta(days=rng.randint(3, 25)) if rng.random() < 0.95 else None
            produced = sampled - timedelta(days=rng.randint(1, 180)) if rng.random() < 0.8 else None
            out.append(Row(
                sample_no=f"{tag}{i:09d}",
                sampled_on=sampled,
                reported_on=reported if reported is None or reported <= self.today else self.today,
                production_date=produced,
                category=category,
                region=rng.choice(self.counties),
                result=("不合格" if failed else "合格") if rng.random() < 0.1 else ("fail" if failed else "pass"),
                stage=rng.choice(_STAGES) if rng.random() < 0.9 else None,
                credit_code=code, name=name,
                product=product,
                brand=rng.choice(_BRANDS) if rng.random() < 0.7 else None,
                specification=rng.choice(_SPECS) if rng.random() < 0.7 else None,
                lot=f"L{rng.randrange(10**8):08d}" if rng.random() < 0.6 else None,
                agency=rng.choice(_AGENCIES),
                laboratory=rng.choice(_LABS),
                report_no=f"BG{sampled:%Y%m}{i:09d}",
                failed_items=rng.sample(_ITEMS, rng.choice((1, 1, 2))) if failed else [],
                fail_reason="检验结果不符合食品安全国家标准要求" if failed and rng.random() < 0.5 else None,
            ))
        return out

    def _producer(self, rng: random.Random, fresh: list | None) -> tuple[str | None, str | None]:
        if fresh is not None:
            return rng.choice(fresh)
        if rng.random() < 0.04:  # produce bought from a named market seller, no credit code
            return None, f"{rng.choice(self.city_names)}农贸市场{rng.randint(1, 300)}号摊位"
        return rng.choice(self.pool)


def to_csv(rows: list[Row]) -> bytes:
    """The rows as an import file (UTF-8 CSV, every column of `inspection.imports.rows`)."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    iso = lambda d: d.isoformat() if d else ""  # noqa: E731
    for r in rows:
        cells = {
            "sample_no": r.sample_no, "sampled_on": iso(r.sampled_on), "category": r.category,
            "region": r.region, "result": r.result, "reported_on": iso(r.reported_on),
            "enterprise_credit_code": r.credit_code or "", "enterprise_name": r.name or "",
            "product": r.product, "brand": r.brand or "", "specification": r.specification or "",
            "lot": r.lot or "", "production_date": iso(r.production_date), "stage": r.stage or "",
            "sampling_agency": r.agency, "laboratory": r.laboratory, "report_no": r.report_no,
            "failed_items": ";".join(r.failed_items), "fail_reason": r.fail_reason or "",
        }
        writer.writerow([cells[c] for c in COLUMNS])
    return buf.getvalue().encode("utf-8")
