"""Demo data for a newcomer's first look: reference data, one user per role and three years of
believable supervisory sampling records, all stored through the real code paths.

The records are a CSV generated deterministically from the seed and the end month and sent
through the importer, so a re-run stores nothing (identical rows count as unchanged).
"""
from __future__ import annotations

import csv
import io
import math
import random
from collections import namedtuple
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from itertools import accumulate

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from core.auth.models import User
from core.auth.services import create_user
from core.clock import LOCAL_TZ, local_today, month_end
from core.reference.seed import seed_reference
from core.reference.trees import Trees, load_trees
from inspection import demo_tables as T
from inspection.credit_code import ALPHABET, check_digit
from inspection.imports.importer import ImportOptions, import_batches
from inspection.models import Batch, ImportRun

DEMO_FILE = "demo.csv"
DEMO_USERS = [  # the inspector's region is Xihu district, Hangzhou
    {"username": "admin", "full_name": "陈立", "password": "admin-demo-2026", "roles": ["admin"],
     "region": "330000"},
    {"username": "supervisor", "full_name": "王敏", "password": "supervisor-demo-2026",
     "roles": ["supervisor"], "region": "330000"},
    {"username": "inspector", "full_name": "李强", "password": "inspector-demo-2026", "roles": ["inspector"],
     "region": "330106"},
    {"username": "agency", "full_name": "张华", "password": "agency-demo-2026", "roles": ["agency"],
     "region": "330100"},
]
# Series planted to slide toward or under their floor, so early warnings have something to find.
# The slide covers the last `start_offset` months (end month included), linear from start_rate
# to end_rate. `boost` is the extra targeted sampling at source (production stage, so the local
# series carry it too) reached in the end month, as regulators do when failures pile up.
DRIFTS = [
    {"category": "farm.vegetable.leafy", "region": "330300", "start_offset": 12, "start_rate": 0.98,
     "end_rate": 0.935, "boost": 8.0, "note": "leafy vegetables in Wenzhou, through the farm floor 0.96"},
    {"category": "food.catering", "region": "330782", "start_offset": 12, "start_rate": 0.965,
     "end_rate": 0.895, "boost": 20.0, "note": "catering food in Yiwu, through the food floor 0.93"},
    {"category": "industrial.electrical", "region": "330200", "start_offset": 12, "start_rate": 0.945,
     "end_rate": 0.885, "boost": 8.0,
     "note": "electrical products in Ningbo, through the industrial floor 0.92"},
]
COLUMNS = ("sample_no", "sampled_on", "reported_on", "category", "region", "result",
           "enterprise_credit_code", "enterprise_name", "product", "brand", "lot", "production_date",
           "stage", "sampling_agency", "laboratory", "report_no", "failed_items", "fail_reason")
PER_MONTH = 1390  # ~50,000 batches in 36 months: looks real, and seeds in seconds
# Log fail-rate effects, as in bench/warning/simulator.py: lasting ones per county and per
# (leaf, city) (some places are persistently worse), and a month-to-month one per (leaf, city)
# (real series are overdispersed). A stable series stays under CAP of its floor's fail rate.
COUNTY_SD, PAIR_SD, NOISE, CAP = 0.2, 0.3, 0.2, 0.85
FLOORS = {"food": 0.93, "drug": 0.95, "farm": 0.96, "industrial": 0.92}  # fixed: re-runs match
MAKERS, MAKERS_LOCAL, FARMS_PER_COUNTY, RESTAURANTS_PER_COUNTY = 950, 0.7, 2, 4  # ~1,500 in all
SMALL = ("饭店", "小吃店", "酒家", "面馆", "家庭农场", "合作社")  # named with their full address


_Firm = namedtuple("_Firm", "code name trade county")  # county is None outside the province


@dataclass
class _Month:
    year: int
    month: int
    back: int  # months before the end month
    rng: random.Random
    noise: dict = field(default_factory=dict)
    seq: dict = field(default_factory=dict)
    carry: dict = field(default_factory=dict)  # drift -> systematic-draw phase, across months


def _org_check(body: str) -> str:
    """GB 11714 check character of an 8-character organisation code."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, (3, 7, 9, 10, 5, 8, 4, 2)))
    return {10: "X", 11: "0"}.get(11 - total % 11, str(11 - total % 11))


class _World:
    """Everything fixed by the seed alone: weights, base fail rates, the enterprise pool."""

    def __init__(self, trees: Trees, seed: int):
        self.trees, cats, regions = trees, trees.categories, trees.regions
        leaves = [c for c in sorted(cats.nodes) if not cats.kids(c) and self.root(c) in T.ROOT_SHARES]
        in_group: dict[str, float] = {}
        for c in leaves:
            in_group[self.group(c)] = in_group.get(self.group(c), 0) + T.LEAVES.get(c, (1, 1))[0]
        self.weight, self.fail = {}, {}
        for root, share in T.ROOT_SHARES.items():
            mine = [c for c in leaves if self.root(c) == root]
            raw = {c: T.GROUPS.get(self.group(c), (1, 1))[0] * T.LEAVES.get(c, (1, 1))[0]
                   / in_group[self.group(c)] for c in mine}
            risk = {c: T.GROUPS.get(self.group(c), (1, 1))[1] * T.LEAVES.get(c, (1, 1))[1] for c in mine}
            mix = {c: self.stage_risk(c) for c in mine}
            mean = sum(raw[c] * risk[c] * mix[c] for c in mine) / sum(raw.values())
            for c in mine:  # scaled so each root averages its published fail rate
                self.weight[c] = share * raw[c] / sum(raw.values())
                self.fail[c] = T.ROOT_FAIL[root] * risk[c] / mean
        self.counties = [r for r in sorted(regions.nodes) if regions.nodes[r].level == 3]
        per_city: dict[str, float] = {}
        for c in self.counties:
            per_city[self.city(c)] = per_city.get(self.city(c), 0) + T.COUNTY_WEIGHTS.get(c, 1)
        self.county_weight = [T.CITY_WEIGHTS.get(self.city(c), 3) * T.COUNTY_WEIGHTS.get(c, 1)
                              / per_city[self.city(c)] for c in self.counties]
        self.drifts = [(d, cats.subtree(d["category"]), regions.subtree(d["region"])) for d in DRIFTS]
        self._months: dict[int, dict[str, float]] = {}
        rng = random.Random(f"{seed}:effects")
        county = {c: rng.gauss(0, COUNTY_SD) for c in self.counties}
        cities = sorted({self.city(c) for c in self.counties})
        pair = {(leaf, city): rng.gauss(0, PAIR_SD) for leaf in sorted(self.fail) for city in cities}
        cap = {leaf: CAP * (1 - FLOORS[self.root(leaf)]) for leaf in self.fail}
        shrink = math.exp(-(COUNTY_SD ** 2 + PAIR_SD ** 2) / 2)  # mean-preserving log-normal
        # lasting fail-rate factor of (leaf, county), capped (the stage factor comes on top)
        self.lasting = {(leaf, c): min(math.exp(pair[(leaf, self.city(c))] + county[c]) * shrink,
                                       cap[leaf] / self.fail[leaf])
                        for leaf in self.fail for c in self.counties}
        self._build_firms(random.Random(f"{seed}:firms"))

    def root(self, code: str) -> str:
        return code.split(".")[0]

    def group(self, code: str) -> str:
        chain = self.trees.categories.ancestors(code)
        return chain[-2] if len(chain) > 1 else code

    def city(self, county: str) -> str:
        return county[:4] + "00"

    def name(self, region: str) -> str:
        return self.trees.regions.nodes[region].name_zh

    def place(self, county: str) -> str:
        """A county as written in an address: county-level cities stand alone."""
        name = self.name(county)
        return name if name.endswith("市") else self.name(self.city(county)) + name

    def lookup(self, table: dict, code: str):
        """The entry of the nearest ancestor (the node itself first) present in `table`."""
        return next((table[a] for a in self.trees.categories.ancestors(code) if a in table), None)

    def stage_risk(self, leaf: str) -> float:
        if leaf.startswith("food.catering"):
            return T.STAGE_FAIL["catering"]
        return sum(T.STAGE_FAIL[s] * p for s, p in T.STAGE_MIX[self.root(leaf)].items())

    def month_weights(self, month: int) -> dict[str, float]:
        """Leaf weights in a calendar month, seasons applied."""
        if month not in self._months:
            seasons = {c: self.lookup(T.SEASONS, c) for c in self.weight}
            self._months[month] = {c: w * (seasons[c][1].get(month, seasons[c][0]) if seasons[c] else 1)
                                   for c, w in self.weight.items()}
        return self._months[month]

    def _build_firms(self, rng: random.Random) -> None:
        self.names: set[str] = set()
        self.makers: dict[str, tuple[list[_Firm], list[float]]] = {}
        self.local: dict[tuple[str, str], list[_Firm]] = {}  # (kind, county or city) -> producers
        kinds: dict[str, float] = {}
        for c, w in self.weight.items():
            if self.root(c) != "farm" and not c.startswith("food.catering"):
                kinds[self.maker_kind(c)] = kinds.get(self.maker_kind(c), 0) + w
        for kind, w in kinds.items():
            hubs = T.HUBS.get(kind) or T.HUBS.get(self.group(kind), {})
            cum = list(accumulate(cw * max([f for p, f in hubs.items() if c.startswith(p)] or [1])
                                  for c, cw in zip(self.counties, self.county_weight)))
            firms = []
            for _ in range(max(3, round(MAKERS * w / sum(kinds.values())))):
                if rng.random() < MAKERS_LOCAL:
                    firms.append(self._firm(rng, kind, rng.choices(self.counties, cum_weights=cum)[0]))
                else:
                    code, city, _ = rng.choices(T.OTHER_REGIONS, [o[2] for o in T.OTHER_REGIONS])[0]
                    firms.append(self._firm(rng, kind, code, city))
            sizes = [rng.lognormvariate(0, 1) for _ in firms]  # a few big producers are sampled often
            self.makers[kind] = (firms, list(accumulate(sizes)))
        farm_groups = [g for g in T.GROUPS if g.startswith("farm.")]
        self.restaurants = {}
        for county in self.counties:
            for _ in range(FARMS_PER_COUNTY):
                self._firm(rng, rng.choices(farm_groups, [T.GROUPS[g][0] for g in farm_groups])[0], county)
            self.restaurants[county] = [self._firm(rng, "catering", county)
                                        for _ in range(RESTAURANTS_PER_COUNTY)]

    def maker_kind(self, leaf: str) -> str:
        # Industrial makers specialise in one product; food and drug makers span a group.
        return leaf if self.root(leaf) == "industrial" else self.group(leaf)

    def _firm(self, rng: random.Random, kind: str, region: str, city: str = "") -> _Firm:
        """A new enterprise with a unique name and a valid GB 32100 credit code."""
        words = T.NAME_WORDS["catering"] if kind == "catering" else self.lookup(T.NAME_WORDS, kind)
        local = region.startswith("33")
        if local:
            city = self.name(self.city(region))[:-1]
        else:  # cooperatives and sole traders are only ever local
            words = [w for w in words if w.endswith("公司")]
        while True:
            trade = (rng.choice(T.TRADE_LOCAL[region[:4]]) if local and rng.random() < 0.25
                     else rng.choice(T.TRADE_FIRST) + rng.choice(T.TRADE_SECOND))
            word = rng.choice(words)
            if word.endswith(SMALL):  # "义乌市…", but "金华市婺城区…"
                name = f"{self.place(region)}{trade}{word}"
            else:
                name = f"{'浙江' if local and rng.random() < 0.15 else city}{trade}{word}"
            if trade[0] != trade[-1] and trade not in T.FAMOUS and name not in self.names:
                break
        self.names.add(name)
        if rng.random() < 0.6:  # registered since 2015: organisation codes begin with MA
            body = "MA" + "".join(rng.choice(ALPHABET) for _ in range(6))
        else:
            body = "".join(rng.choice("0123456789") for _ in range(8))
        kind_code = "93" if word.endswith("合作社") else "92" if word.endswith(SMALL) else "91"
        first17 = kind_code + region + body + _org_check(body)
        firm = _Firm(first17 + check_digit(first17), name, trade, region if local else None)
        if local and kind != "catering":
            for area in (region, self.city(region)):
                self.local.setdefault((kind, area), []).append(firm)
        return firm

    def producer(self, rng: random.Random, leaf: str, county: str, stage: str):
        """(enterprise or None, county sampled in, stage): factories are sampled where they are."""
        if leaf.startswith("food.catering"):
            return rng.choice(self.restaurants[county]), county, "catering"
        farm = self.root(leaf) == "farm"
        kind = self.group(leaf) if farm else self.maker_kind(leaf)
        if stage == "production":
            found = self.local.get((kind, county)) or self.local.get((kind, self.city(county)))
            if found:
                firm = rng.choice(found)
                return firm, firm.county, stage
            stage = "distribution"
        if farm:
            return None, county, stage  # bought at a market or by a canteen: no credit code
        firms, cum = self.makers[kind]
        return rng.choices(firms, cum_weights=cum)[0], county, stage


def _seller(rng: random.Random, place: str, stage: str) -> str:
    """Where farm produce without a credit code was bought."""
    trade = rng.choice(T.TRADE_FIRST) + rng.choice(T.TRADE_SECOND)
    if stage == "catering" or rng.random() < 0.15:
        return f"{place}{trade}{'饭店' if stage == 'catering' else '生鲜超市'}"
    return f"{place}{rng.choice(T.MARKETS)}农贸市场{rng.choice(T.SURNAMES)}某某（{rng.randint(1, 60)}号摊位）"


def _fails(world: _World, m: _Month, leaf: str, county: str, stage: str) -> bool:
    """Draw the conclusion: drifting series follow their planned curve, others are noisy."""
    for i, (d, cats, regions) in enumerate(world.drifts):
        if m.back < d["start_offset"] and leaf in cats and county in regions:
            progress = (d["start_offset"] - m.back) / d["start_offset"]
            p = 1 - d["start_rate"] - (d["end_rate"] - d["start_rate"]) * progress
            # Systematic draw from a random phase: realised fails track the plan, not luck.
            if i not in m.carry:
                m.carry[i] = m.rng.random()
            carry = m.carry[i] + p
            m.carry[i] = carry % 1
            return carry >= 1
    if (leaf, world.city(county)) not in m.noise:  # mean-preserving lognormal
        m.noise[(leaf, world.city(county))] = math.exp(m.rng.gauss(0, NOISE) - NOISE ** 2 / 2)
    p = (world.fail[leaf] * world.lasting[(leaf, county)] * m.noise[(leaf, world.city(county))]
         * T.STAGE_FAIL[stage])
    return m.rng.random() < min(0.6, p)


def _row(world: _World, m: _Month, leaf: str, county: str, targeted: bool, cutoff: date) -> list[str]:
    """One CSV row; targeted rows are sampled at source."""
    rng, root, mix = m.rng, world.root(leaf), T.STAGE_MIX[world.root(leaf)]
    stage = "production" if targeted else rng.choices(list(mix), list(mix.values()))[0]
    firm, county, stage = world.producer(rng, leaf, county, stage)
    for _ in range(3):  # sampling teams mostly work on weekdays
        sampled = date(m.year, m.month, rng.randint(1, month_end(m.year, m.month).day))
        if sampled.weekday() < 5 or rng.random() < 0.15:
            break
    reported = min(sampled + timedelta(days=rng.randint(5, 25)), cutoff)
    failed, items, reason = _fails(world, m, leaf, county, stage), "", ""
    if failed and rng.random() < 0.03:
        reason = rng.choice(T.FAIL_REASONS[root])
    elif failed:
        pool = world.lookup(T.FAILED_ITEMS, leaf)
        items = ";".join(rng.sample(pool, min(len(pool), rng.choices((1, 2, 3), (80, 15, 5))[0])))
    product = rng.choice(world.lookup(T.PRODUCTS, leaf) or [world.trees.categories.nodes[leaf].name_zh])
    brand, shelf, produced, lot = "", world.lookup(T.SHELF_DAYS, leaf), "", ""
    if firm and root in ("food", "industrial") and not leaf.startswith("food.catering"):
        r = rng.random()
        brand = firm.trade if r < 0.75 else "图形商标" if r < 0.85 else ""
    if shelf is not None and (root != "industrial" or rng.random() < 0.6):
        made = sampled - timedelta(days=rng.randint(0, shelf))
        produced = made.isoformat()
        if root == "drug":
            lot = f"{made:%y%m%d}{rng.randint(1, 3):02d}"
        elif not leaf.startswith("food.catering"):
            lot = f"{made:%Y%m%d}" + (rng.choice("ABC") if rng.random() < 0.3 else "")
    sampler = rng.choice(T.SAMPLERS[root])
    lab = sampler if sampler in T.LABS[root] and rng.random() < 0.85 else rng.choice(T.LABS[root])
    place = world.name(world.city(county))
    m.seq[county] = m.seq.get(county, 0) + 1
    sample_no = f"{T.SAMPLE_PREFIX[root]}{m.year}{county}{m.month:02d}{m.seq[county]:04d}"
    return [sample_no, sampled.isoformat(), reported.isoformat(), leaf, county, "fail" if failed else "pass",
            firm.code if firm else "", firm.name if firm else _seller(rng, world.place(county), stage),
            product, brand, lot, produced, stage, sampler.format(city=place), lab.format(city=place),
            T.REPORT_PREFIX[root] + sample_no[2:], items, reason]


def _draw(rng: random.Random, categories: dict, counties: dict, k: int, targeted: bool) -> list[tuple]:
    """k (leaf, county, targeted) picks, category and county drawn independently by weight."""
    return list(zip(rng.choices(list(categories), list(categories.values()), k=k),
                    rng.choices(list(counties), list(counties.values()), k=k), [targeted] * k))


def _shift(year: int, month: int, by: int) -> tuple[int, int]:
    index = year * 12 + month - 1 + by
    return index // 12, index % 12 + 1


def demo_csv(trees: Trees, months: int, seed: int, end: tuple[int, int]) -> tuple[bytes, int]:
    """The demo CSV (UTF-8) for `months` months up to `end` (year, month), and its row count."""
    world = _World(trees, seed)
    cutoff = month_end(*end) + timedelta(days=1)  # the first of the current month: never future
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(COLUMNS)
    rows, mean_factor, carry = 0, sum(T.MONTH_FACTORS) / 12, {}
    # Months before the requested span are drawn (not written) when a drift window starts earlier,
    # so the drifts' draws, carried from month to month, are the same whatever `months` is.
    for back in range(max(months, *(d["start_offset"] for d in DRIFTS)) - 1, -1, -1):
        year, month = _shift(*end, -back)
        # One stream per month, so a longer run reproduces the months a shorter one stored.
        m = _Month(year, month, back, random.Random(f"{seed}:{year}-{month:02d}"), carry=carry)
        weights = world.month_weights(month)
        n = round(PER_MONTH * T.MONTH_FACTORS[month - 1] / mean_factor)
        counties = dict(zip(world.counties, world.county_weight))
        plan = _draw(m.rng, weights, counties, n, False)
        for d, cats, regions in world.drifts:  # targeted sampling of the drifting series
            if back < d["start_offset"]:
                sub_c = {c: w for c, w in weights.items() if c in cats}
                sub_r = {r: w for r, w in counties.items() if r in regions}
                share = (sum(sub_c.values()) / sum(weights.values())
                         * sum(sub_r.values()) / sum(counties.values()))
                extra = round(n * share * (d["boost"] - 1) * (d["start_offset"] - back) / d["start_offset"])
                plan += _draw(m.rng, sub_c, sub_r, extra, True)
        lines = [_row(world, m, leaf, county, targeted, cutoff) for leaf, county, targeted in plan]
        if back < months:
            writer.writerows(lines)
            rows += len(lines)
    return out.getvalue().encode("utf-8"), rows


def _end_month(session: Session) -> tuple[int, int]:
    """The month before the first demo seeding's month (else today's), so re-runs match."""
    first = session.scalar(select(ImportRun.created_at).where(ImportRun.filename == DEMO_FILE)
                           .order_by(ImportRun.id).limit(1))
    if first is None:
        today = local_today()
    else:  # SQLite returns the UTC timestamp without its zone
        today = (first if first.tzinfo else first.replace(tzinfo=timezone.utc)).astimezone(LOCAL_TZ)
    return _shift(today.year, today.month, -1)


def _ensure_users(session: Session) -> str:
    created = []
    for u in DEMO_USERS:
        if session.scalar(select(User.id).where(User.username == u["username"])) is None:
            create_user(session, u["username"], u["password"], u["roles"], u["region"],
                        full_name=u["full_name"])
            created.append(u["username"])
    if not created:
        return "demo users: all present"
    return f"demo users: created {', '.join(created)} (password: <username>-demo-2026)"


def seed_demo(session: Session, months: int = 36, seed: int = 20261130) -> list[str]:
    """Seed reference data, the demo users and `months` of sampling data; idempotent."""
    counts = seed_reference(session)
    lines = [f"reference data: {counts['regions']} regions, {counts['categories']} categories, "
             f"{counts['floors']} floors added", _ensure_users(session)]
    admin_id = session.scalar(select(User.id).where(User.username == "admin"))
    end = _end_month(session)
    content, rows = demo_csv(load_trees(session), months, seed, end)
    start = _shift(*end, 1 - months)
    lines.append(f"sampling data: {rows:,} rows, {start[0]}-{start[1]:02d} to {end[0]}-{end[1]:02d}, "
                 f"seed {seed}")
    # As admin: the inspector's scope is one district, the demo covers the province.
    # The upload limit guards against other people's files; this one is generated here, and a
    # long history (`--months`) outgrows it.
    result = import_batches(session, content, ImportOptions(filename=DEMO_FILE, user_id=admin_id,
                                                            max_bytes=max(len(content), ImportOptions.max_bytes)))
    lines.append(f"import #{result.import_id}: {result.accepted:,} accepted, {result.unchanged:,} unchanged, "
                 f"{result.rejected_rows:,} rejected")
    lines += [f"  rejected row {r['row']} {r['column']}: {r['reason']}" for r in result.rejected[:5]]
    fails = func.sum(case((Batch.conclusion == "fail", 1), else_=0))
    total, failed = session.execute(select(func.count(Batch.id), fails)
                                    .where(Batch.voided_at.is_(None))).one()
    lines.append(f"batches stored: {total:,}, pass rate {1 - (failed or 0) / max(total, 1):.2%}")
    for d in DRIFTS:
        first = _shift(*end, 1 - d["start_offset"])
        lines.append(f"planted drift: {d['category']} in {d['region']} from {first[0]}-{first[1]:02d}, "
                     f"{d['start_rate']:.1%} -> {d['end_rate']:.1%} ({d['note']})")
    return lines
