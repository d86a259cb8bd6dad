"""Monthly batches per leaf series (leaf sub-category x county) with a known true rate.

`simulate(seed, months, config)` returns a `SimResult`:

* ``leaves``: one row per (leaf category, county, month): ``category, region, month, n,
  failed, follow_up, true_rate``. ``n`` is the number of batches (1..500), ``follow_up`` how
  many of them are follow-up sampling, ``failed`` is drawn binomially from a beta-perturbed
  pass rate around ``true_rate`` (overdispersion).
* ``truth``: one row per series at every level of both trees (category node incl. ``*`` x
  region node incl. 330000) and month: ``category, region, month, n_expected, true_rate,
  sustained_rate, floor, below``. An aggregate's rates are the means of its leaves' rates
  weighted by their expected volumes (the month's sampling plan: routine plus any follow-up
  sampling in force, so the true rate is the expected batch pass rate). ``sustained_rate`` is
  the true rate without the one-month dips; ``below`` is ``sustained_rate < floor``.
* ``series``: one row per series: levels, floor, mean expected volume and its band,
  ``crossing_month`` (first month the sustained true rate is below the floor, computed from
  ``truth``, so crossings of aggregates caused by leaf events are included), the event that
  caused it, ``stable_well_above`` and ``scenario``.
* ``events``: the injected scenarios with the crossing month of each event's own series.

`aggregate(leaves)` sums n/failed to every (category node, region node, month), as the
application's series aggregate does. `volume_band(mean_n)` names the volume band.
Everything is vectorised over series x months; the only Python loops run over months,
events and tree nodes, never over batches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import pandas as pd

from bench.warning import scenarios
from bench.warning.trees import Trees, load_trees

BANDS = ("lt20", "20to100", "gt100")


@dataclass(frozen=True)
class SimConfig:
    """Every knob of the simulator. The default is the evaluation size."""

    # Size: fraction of leaf categories (per top), cities (None all, an int draws that
    # many, or explicit codes), and the chance a leaf category is sampled in a county.
    leaf_fraction: float = 1.0
    cities: int | tuple[str, ...] | None = None
    presence: float = 0.35

    # Baseline pass rates per top-level category, and the spread of the per-leaf,
    # per-county and per-pair offsets (log of the failure rate).
    base_pass: dict = field(default_factory=lambda: {
        "food": 0.975, "farm": 0.98, "drug": 0.99, "industrial": 0.945})
    leaf_sd: float = 0.30
    county_sd: float = 0.20
    pair_sd: float = 0.10
    # A stable series' failure rate never exceeds this share of the floor's failure rate
    # (1 - floor), so no series crosses its floor without an event.
    ratio_cap: float = 0.85
    # Slow wander of the true rate: AR(1) on the log failure rate.
    ar_sd: float = 0.05
    ar_phi: float = 0.8
    # Seasonal failure-rate amplitude, drawn per leaf uniformly up to this; food and farm
    # peak in July (summer worse), the others at a random month.
    rate_season_amp: dict = field(default_factory=lambda: {
        "food": 0.25, "farm": 0.25, "drug": 0.05, "industrial": 0.10})
    summer_peak_month: int = 6  # 0 = January

    # Volumes: log-normal expected batches a month (median, spreads), clipped to 1..500,
    # an annual sinusoid (amplitude per top, scaled by U(0.5, 1) per series, random phase),
    # and gamma-Poisson draws.
    vol_median: float = 5.0
    vol_leaf_sd: float = 0.8
    vol_county_sd: float = 0.5
    vol_pair_sd: float = 1.0
    vol_season_amp: dict = field(default_factory=lambda: {
        "food": 0.20, "farm": 0.35, "drug": 0.10, "industrial": 0.15})
    vol_gamma_shape: float = 10.0
    n_min: int = 1
    n_max: int = 500

    # Overdispersion: the month's pass probability ~ Beta(k p, k (1 - p)).
    concentration: float = 200.0

    # Follow-up sampling (跟踪抽检): in a share of counties, a leaf series whose last 3 months'
    # observed failures are at least `follow_min_failed` and above the floor's failure rate is
    # sampled more for the next `follow_months` months: extra batches a month with mean
    # max(follow_min_extra, (follow_factor - 1) x expected volume). Regulators do this when
    # failures pile up, so a suspect series' volume rises just when it matters; stable series
    # trigger it by chance too. 0 counties: no follow-up (the simulator before 2026-12-01).
    follow_share: float = 0.5
    follow_min_failed: int = 2
    follow_months: int = 3
    follow_factor: float = 3.0
    follow_min_extra: float = 6.0

    # Scenario mix (see scenarios.py) and labels.
    events_per_1000: dict = field(default_factory=lambda: dict(scenarios.EVENTS_PER_1000))
    warmup: int = scenarios.WARMUP
    stable_margin: float = 0.015   # stable_well_above: sustained rate >= floor + this
    dip_visible: float = 0.005     # a dip that moves a series this much labels it 'dip'


DEFAULT = SimConfig()
# A small run for tests: about 400 leaf series.
SMALL = SimConfig(leaf_fraction=0.3, cities=3, presence=0.35)


@dataclass
class SimResult:
    seed: int
    months: int
    config: SimConfig
    trees: Trees
    leaves: pd.DataFrame
    truth: pd.DataFrame
    series: pd.DataFrame
    events: pd.DataFrame

    @property
    def crossings(self) -> pd.DataFrame:
        """Series whose sustained true rate crosses below the floor."""
        return self.series[self.series["crossing_month"].notna()]

    @property
    def stable(self) -> pd.DataFrame:
        """The false-alarm denominator: series that stay well above their floor."""
        return self.series[self.series["stable_well_above"]]


def volume_band(mean_n):
    """'lt20' under 20 batches a month, '20to100' from 20 to 100, 'gt100' over 100."""
    x = np.asarray(mean_n, dtype=float)
    out = np.where(x < 20, "lt20", np.where(x <= 100, "20to100", "gt100"))
    return str(out) if out.ndim == 0 else out


@lru_cache(maxsize=1)
def _full_trees() -> Trees:
    return load_trees()


# ---- membership of leaf series in every aggregate series ----------------------------------

def _membership(cats: np.ndarray, regions: np.ndarray, trees: Trees):
    """For leaf series (cats[i], regions[i]): pairs (leaf index, group index) for every
    (category ancestor incl. `*`) x (region ancestor), sorted by group; groups are sorted by
    (category, region) and returned as two code arrays."""
    cat_anc = {c: trees.cat_ancestors(c) for c in set(cats.tolist())}
    reg_anc = {r: trees.region_ancestors(r) for r in set(regions.tolist())}
    pairs = [(i, a, b) for i, (c, r) in enumerate(zip(cats.tolist(), regions.tolist()))
             for a in cat_anc[c] for b in reg_anc[r]]
    keys = sorted({(a, b) for _, a, b in pairs})
    gid = {k: j for j, k in enumerate(keys)}
    leaf_idx = np.fromiter((p[0] for p in pairs), dtype=np.int64, count=len(pairs))
    group_idx = np.fromiter((gid[(p[1], p[2])] for p in pairs), dtype=np.int64,
                            count=len(pairs))
    order = np.argsort(group_idx, kind="stable")
    g_cat = np.array([k[0] for k in keys], dtype=object)
    g_reg = np.array([k[1] for k in keys], dtype=object)
    return leaf_idx[order], group_idx[order], g_cat, g_reg


def _group_sum(x: np.ndarray, leaf_idx: np.ndarray, group_idx: np.ndarray,
               n_groups: int) -> np.ndarray:
    """Sum rows of x (leaves x months) into groups; pairs sorted by group."""
    starts = np.flatnonzero(np.r_[True, group_idx[1:] != group_idx[:-1]])
    out = np.zeros((n_groups,) + x.shape[1:],
                   dtype=np.float64 if x.dtype.kind == "f" else np.int64)
    out[group_idx[starts]] = np.add.reduceat(x[leaf_idx], starts, axis=0)
    return out


def aggregate(leaves: pd.DataFrame, trees: Trees | None = None) -> pd.DataFrame:
    """Sum ``n`` and ``failed`` to every (category node incl. `*`, region node, month) the
    leaf rows reach, as the application's series aggregate holds them. Rows exist for a
    (series, month) when at least one leaf row of that month counts in it."""
    trees = trees or _full_trees()
    sid, uniq = pd.factorize(pd.MultiIndex.from_arrays(
        [leaves["category"].to_numpy(object), leaves["region"].to_numpy(object)]))
    cats = np.array([u[0] for u in uniq], dtype=object)
    regs = np.array([u[1] for u in uniq], dtype=object)
    mid, months = pd.factorize(leaves["month"].to_numpy(), sort=True)
    S, M = len(uniq), len(months)
    flat = sid * M + mid
    dense = {col: np.bincount(flat, weights=leaves[col].to_numpy(np.float64),
                              minlength=S * M).reshape(S, M) for col in ("n", "failed")}
    rows = np.bincount(flat, minlength=S * M).reshape(S, M)
    li, gi, g_cat, g_reg = _membership(cats, regs, trees)
    G = len(g_cat)
    n = _group_sum(dense["n"], li, gi, G)
    failed = _group_sum(dense["failed"], li, gi, G)
    present = _group_sum(rows, li, gi, G) > 0
    g, m = np.nonzero(present)
    return pd.DataFrame({
        "category": g_cat[g], "region": g_reg[g], "month": np.asarray(months)[m],
        "n": n[g, m].round().astype(np.int64), "failed": failed[g, m].round().astype(np.int64),
    })


# ---- the simulation -----------------------------------------------------------------------

def _normal_by(rng: np.random.Generator, keys: np.ndarray, sd: float) -> np.ndarray:
    """One N(0, sd) draw per distinct key (in sorted key order), spread to the rows."""
    uniq, inv = np.unique(keys, return_inverse=True)
    return rng.normal(0.0, sd, len(uniq))[inv]


def simulate(seed: int, months: int = 60, config: SimConfig = DEFAULT) -> SimResult:
    """One deterministic run (numpy default_rng streams spawned from `seed`)."""
    cfg = config
    T = int(months)
    # spawn(8) starts with the same 7 children as spawn(7): runs without follow-up sampling
    # are the same as before the follow-up stream was added.
    streams = [np.random.default_rng(s) for s in np.random.SeedSequence(seed).spawn(8)]
    r_tree, r_vol, r_rate, r_ar, r_event, r_n, r_fail, r_follow = streams

    trees = _full_trees().subset(r_tree, cfg.leaf_fraction, cfg.cities)

    # Leaf series: each (leaf category, county) is sampled with probability `presence`.
    L, C = np.meshgrid(np.array(trees.leaf_categories, dtype=object),
                       np.array(trees.counties, dtype=object), indexing="ij")
    L, C = L.ravel(), C.ravel()
    keep = r_tree.random(L.size) < cfg.presence
    cat, county = L[keep], C[keep]
    S = cat.size
    if S == 0:
        raise ValueError("the subset holds no leaf series")
    city = np.array([trees.city_of(c) for c in county], dtype=object)
    top = np.array([trees.top_of(c) for c in cat], dtype=object)
    floor = np.array([trees.floor(c) for c in cat])
    F = 1.0 - floor
    moy = np.arange(T) % 12

    # Volumes.
    log_mu = (np.log(cfg.vol_median) + _normal_by(r_vol, cat, cfg.vol_leaf_sd)
              + _normal_by(r_vol, county, cfg.vol_county_sd) + r_vol.normal(0, cfg.vol_pair_sd, S))
    mu0 = np.clip(np.exp(log_mu), cfg.n_min, cfg.n_max)
    v_amp = np.array([cfg.vol_season_amp[t] for t in top]) * r_vol.uniform(0.5, 1.0, S)
    v_phase = r_vol.uniform(0, 12, S)
    mu = np.clip(mu0[:, None] * (1 + v_amp[:, None]
                                 * np.sin(2 * np.pi * (moy[None, :] - v_phase[:, None]) / 12)),
                 cfg.n_min, cfg.n_max)
    k = cfg.vol_gamma_shape
    lam = mu * r_n.gamma(k, 1.0 / k, size=mu.shape)
    n = np.clip(r_n.poisson(lam), cfg.n_min, cfg.n_max).astype(np.int64)

    # Baseline true rates: failure rate = F * min(cap, ratio0 * season * exp(AR)).
    base_fail = np.array([1 - cfg.base_pass[t] for t in top])
    ratio0 = (base_fail / F) * np.exp(_normal_by(r_rate, cat, cfg.leaf_sd)
                                      + _normal_by(r_rate, county, cfg.county_sd)
                                      + r_rate.normal(0, cfg.pair_sd, S))
    uniq_cat, cat_inv = np.unique(cat, return_inverse=True)
    cat_top = np.array([trees.top_of(c) for c in uniq_cat], dtype=object)
    amp_c = np.array([cfg.rate_season_amp[t] for t in cat_top]) * r_rate.uniform(0, 1, len(uniq_cat))
    summer = np.isin(cat_top, ["food", "farm"])
    peak_c = np.where(summer, cfg.summer_peak_month + r_rate.uniform(-1, 1, len(uniq_cat)),
                      r_rate.uniform(0, 12, len(uniq_cat)))
    season = 1 + (amp_c[cat_inv][:, None]
                  * np.cos(2 * np.pi * (moy[None, :] - peak_c[cat_inv][:, None]) / 12))
    ar = np.empty((S, T))
    ar[:, 0] = r_ar.normal(0, cfg.ar_sd / np.sqrt(1 - cfg.ar_phi ** 2), S)
    shocks = r_ar.normal(0, cfg.ar_sd, (S, T))
    for t in range(1, T):
        ar[:, t] = cfg.ar_phi * ar[:, t - 1] + shocks[:, t]
    ratio = np.minimum(cfg.ratio_cap, ratio0[:, None] * season * np.exp(ar))
    base_rate = 1.0 - F[:, None] * ratio

    # Events.
    band = volume_band(mu.mean(axis=1))
    idx = scenarios.SeriesIndex(cat, county, city, band, floor, trees.cat_parent)
    events = scenarios.plan_events(r_event, idx, T, cfg.events_per_1000, cfg.warmup)
    w = np.zeros((S, T))
    target = np.zeros(S)
    dip = np.zeros((S, T), dtype=bool)
    dip_rate = np.zeros(S)
    sust_event = np.full(S, -1)
    dip_event = np.full(S, -1)
    for e in events:
        if e.kind in scenarios.SUSTAINED:
            d = e.end_month - e.start_month + 1
            ramp = np.arange(1, d + 1) / d
            w[np.ix_(e.leaves, np.arange(e.start_month, e.end_month + 1))] = ramp
            w[e.leaves, e.end_month + 1:] = 1.0
            target[e.leaves] = e.to_rate
            sust_event[e.leaves] = e.event_id
        elif e.kind == "dip":
            dip[e.leaves, e.start_month] = True
            dip_rate[e.leaves] = e.to_rate
            dip_event[e.leaves] = e.event_id
    sust_rate = base_rate + w * (target[:, None] - base_rate)
    true_rate = np.where(dip, dip_rate[:, None], sust_rate)

    # Observations: overdispersed pass probability, then binomial failures.
    kc = cfg.concentration
    p_obs = r_fail.beta(kc * true_rate, kc * (1 - true_rate))
    failed = r_fail.binomial(n, 1 - p_obs)
    extra, extra_failed, planned = _follow_up(r_follow, n, failed, p_obs, mu, F, county, cfg)
    n, failed = n + extra, failed + extra_failed
    # The floor is checked against the batch pass rate (省级监督抽查批次合格率), so an aggregate's
    # true rate weighs its leaves by the batches the month's sampling plan expects of them:
    # the routine volume plus any follow-up sampling in force. A leaf under follow-up pulls its
    # city's batch pass rate down, and a warning that says so is not a false alarm.
    weight = mu + planned

    # Truth at every level.
    li, gi, g_cat, g_reg = _membership(cat, county, trees)
    G = len(g_cat)
    n_exp = _group_sum(weight, li, gi, G)
    g_true = _group_sum(weight * true_rate, li, gi, G) / n_exp
    g_sust = _group_sum(weight * sust_rate, li, gi, G) / n_exp
    g_floor = np.array([trees.floor(c) for c in g_cat])
    below = g_sust < g_floor[:, None]

    truth = pd.DataFrame({
        "category": np.repeat(g_cat, T), "region": np.repeat(g_reg, T),
        "month": np.tile(np.arange(T), G), "n_expected": n_exp.ravel(),
        "true_rate": g_true.ravel(), "sustained_rate": g_sust.ravel(),
        "floor": np.repeat(g_floor, T), "below": below.ravel(),
    })
    leaves = pd.DataFrame({
        "category": np.repeat(cat, T), "region": np.repeat(county, T),
        "month": np.tile(np.arange(T), S), "n": n.ravel(), "failed": failed.ravel(),
        "follow_up": extra.ravel(), "true_rate": true_rate.ravel(),
    })

    # Series labels.
    has = below.any(axis=1)
    cross = np.where(has, below.argmax(axis=1), -1)
    margin = (g_sust - g_floor[:, None]).min(axis=1)
    stable = (~has) & (margin >= cfg.stable_margin - 1e-12)
    dip_dev = (g_true - g_sust).min(axis=1)
    cause = _attribute(cross, li, gi, sust_event, weight * (base_rate - sust_rate))
    kind_of = {e.event_id: e.kind for e in events}
    scenario = np.where(
        has, [kind_of.get(c, "unattributed") for c in cause],
        np.where(stable, np.where(dip_dev <= -cfg.dip_visible, "dip", "stable"), "near_floor"))
    series = pd.DataFrame({
        "category": g_cat, "region": g_reg,
        "cat_level": [trees.cat_level(c) for c in g_cat],
        "region_level": [trees.region_level_name(r) for r in g_reg],
        "floor": g_floor, "mean_n_expected": n_exp.mean(axis=1),
        "band": volume_band(n_exp.mean(axis=1)),
        "n_leaf_series": np.bincount(gi, minlength=G),
        "crossing_month": pd.array(np.where(has, cross, pd.NA), dtype="Int64"),
        "cause_event_id": pd.array(np.where(has, cause, pd.NA), dtype="Int64"),
        "months_below": below.sum(axis=1), "min_margin": margin,
        "stable_well_above": stable, "scenario": scenario,
    })

    # Events with their own series' crossing.
    gid = {(c, r): i for i, (c, r) in enumerate(zip(g_cat, g_reg))}
    rows = []
    for e in events:
        g = gid[(e.category, e.region)]
        rows.append({
            "event_id": e.event_id, "kind": e.kind, "level": e.level,
            "category": e.category, "region": e.region,
            "start_month": e.start_month, "end_month": e.end_month,
            "from_rate": float(g_sust[g, max(e.start_month - 1, 0)]) if e.kind != "stable"
            else float(g_sust[g].mean()),
            "to_rate": e.to_rate if e.to_rate is not None else float(g_sust[g].mean()),
            "floor": float(g_floor[g]),
            "crossing_month": int(cross[g]) if has[g] else pd.NA,
            "n_leaf_series": len(e.leaves), "mean_n_expected": float(n_exp[g].mean()),
            "band": volume_band(n_exp[g].mean()),
        })
    events_df = pd.DataFrame(rows, columns=[
        "event_id", "kind", "level", "category", "region", "start_month", "end_month",
        "from_rate", "to_rate", "floor", "crossing_month", "n_leaf_series",
        "mean_n_expected", "band"])
    events_df["crossing_month"] = events_df["crossing_month"].astype("Int64")
    return SimResult(seed, T, cfg, trees, leaves, truth, series, events_df)


def _follow_up(rng: np.random.Generator, n: np.ndarray, failed: np.ndarray, p_obs: np.ndarray,
               mu: np.ndarray, fail_floor: np.ndarray, county: np.ndarray, cfg: SimConfig):
    """(extra batches, their failures, their expected number) from follow-up sampling, month by
    month: a month's trigger reads the observed batches up to it, extras included (SimConfig)."""
    S, T = n.shape
    extra = np.zeros((S, T), dtype=np.int64)
    extra_failed = np.zeros((S, T), dtype=np.int64)
    planned = np.zeros((S, T))
    if cfg.follow_share <= 0:
        return extra, extra_failed, planned
    uniq, inv = np.unique(county, return_inverse=True)
    follows = (rng.random(len(uniq)) < cfg.follow_share)[inv]
    until = np.full(S, -1)
    for t in range(T):
        planned[:, t] = np.where(follows & (until >= t), np.maximum(
            cfg.follow_min_extra, (cfg.follow_factor - 1) * mu[:, t]), 0.0)
        extra[:, t] = np.minimum(rng.poisson(planned[:, t]), cfg.n_max - n[:, t])
        extra_failed[:, t] = rng.binomial(extra[:, t], 1 - p_obs[:, t])
        lo = max(0, t - 2)
        n3 = n[:, lo:t + 1].sum(1) + extra[:, lo:t + 1].sum(1)
        f3 = failed[:, lo:t + 1].sum(1) + extra_failed[:, lo:t + 1].sum(1)
        trigger = follows & (f3 >= cfg.follow_min_failed) & (f3 > n3 * fail_floor)
        until = np.where(trigger, t + cfg.follow_months, until)
    return extra, extra_failed, planned


def _attribute(cross: np.ndarray, li: np.ndarray, gi: np.ndarray, leaf_event: np.ndarray,
               deficit: np.ndarray) -> np.ndarray:
    """For each crossing group, the sustained event whose leaves in the group pull its rate
    down the most (volume x drop below baseline) in the crossing month; -1 if none."""
    out = np.full(cross.size, -1)
    sel = (cross[gi] >= 0) & (leaf_event[li] >= 0)
    if not sel.any():
        return out
    g, s = gi[sel], li[sel]
    frame = pd.DataFrame({"g": g, "e": leaf_event[s], "d": deficit[s, cross[g]]})
    tot = frame.groupby(["g", "e"], sort=True)["d"].sum().reset_index()
    best = tot.sort_values(["g", "d", "e"], ascending=[True, False, True]).drop_duplicates("g")
    out[best["g"].to_numpy()] = best["e"].to_numpy()
    return out


def below_within(truth: pd.DataFrame, horizon: int = 3) -> pd.Series:
    """Brier target: 1.0 when the series' sustained true rate is below its floor in any of
    the next `horizon` months (t+1..t+horizon), NaN where those months are not all in the
    run. Aligned with `truth` (any row order)."""
    t = truth.sort_values(["category", "region", "month"])
    T = int(t["month"].max()) + 1
    if len(t) % T:
        raise ValueError("truth must hold every month of every series")
    b = t["below"].to_numpy().reshape(-1, T)
    y = np.full(b.shape, np.nan)
    for t0 in range(T - horizon):
        y[:, t0] = b[:, t0 + 1:t0 + 1 + horizon].any(axis=1)
    return pd.Series(y.ravel(), index=t.index, name=f"below_within_{horizon}").reindex(truth.index)
