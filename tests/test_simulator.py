"""The early-warning evaluation simulator (bench/warning): determinism, aggregation, truth,
scenario placement and labels. Small runs only; no application, no database."""
from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bench.warning import SMALL, SimConfig, aggregate, below_within, simulate, volume_band
from bench.warning.scenarios import SUSTAINED

MONTHS = 36


@pytest.fixture(scope="module")
def run():
    return simulate(11, MONTHS, SMALL)


# ---- independent tree walks (by code shape, not through bench.warning.trees) ----------------

def cat_ancestors(code: str) -> list[str]:
    parts = code.split(".")
    return [".".join(parts[:i]) for i in range(len(parts), 0, -1)] + ["*"]


def region_ancestors(county: str) -> list[str]:
    return [county, county[:4] + "00", county[:2] + "0000"]


def contains(cat_node: str, region_node: str, leaf: str, county: str) -> bool:
    return cat_node in cat_ancestors(leaf) and region_node in region_ancestors(county)


def own(truth: pd.DataFrame, category: str, region: str) -> pd.DataFrame:
    t = truth[(truth["category"] == category) & (truth["region"] == region)]
    return t.sort_values("month").reset_index(drop=True)


# ---- determinism ----------------------------------------------------------------------------

def test_same_seed_same_run(run):
    again = simulate(11, MONTHS, SMALL)
    for name in ("leaves", "truth", "series", "events"):
        pd.testing.assert_frame_equal(getattr(run, name), getattr(again, name))


def test_other_seed_other_run(run):
    other = simulate(12, MONTHS, SMALL)
    assert not (len(other.leaves) == len(run.leaves)
                and np.array_equal(other.leaves["failed"], run.leaves["failed"]))


# ---- shape and volumes ----------------------------------------------------------------------

def test_leaf_rows_complete_and_volumes_in_range(run):
    leaves = run.leaves
    per_series = leaves.groupby(["category", "region"])["month"].agg(["count", "min", "max"])
    assert (per_series["count"] == MONTHS).all()
    assert (per_series["min"] == 0).all() and (per_series["max"] == MONTHS - 1).all()
    assert leaves["n"].between(1, 500).all()
    assert ((leaves["failed"] >= 0) & (leaves["failed"] <= leaves["n"])).all()
    assert leaves["true_rate"].between(0, 1).all()
    # Leaf categories are nobody's parent; regions are counties.
    cats = set(leaves["category"])
    assert not any(c != d and d.startswith(c + ".") for c in cats for d in cats)
    assert all(not r.endswith("00") for r in set(leaves["region"]))
    # Heavy at the small end: most leaf series under 20 batches a month.
    mean_n = leaves.groupby(["category", "region"])["n"].mean()
    assert (mean_n < 20).mean() > 0.6


def test_default_size_is_a_few_thousand_leaf_series():
    r = simulate(1)
    n_series = r.leaves.groupby(["category", "region"]).ngroups
    assert 2000 <= n_series <= 8000
    assert r.months == 60 and r.truth["month"].max() == 59
    assert set(r.truth["region"]) >= {"330000"} and "*" in set(r.truth["category"])


def test_volume_band_edges():
    assert volume_band(19.99) == "lt20"
    assert volume_band(20) == "20to100"
    assert volume_band(100) == "20to100"
    assert volume_band(100.01) == "gt100"
    assert list(volume_band([1, 50, 400])) == ["lt20", "20to100", "gt100"]


# ---- aggregation ----------------------------------------------------------------------------

def test_aggregate_equals_leaf_totals_at_every_level(run):
    expected: Counter = Counter()
    sums = run.leaves.groupby(["category", "region", "month"])[["n", "failed"]].sum()
    for (cat, county, month), n, failed in zip(sums.index, sums["n"], sums["failed"]):
        for c in cat_ancestors(cat):
            for r in region_ancestors(county):
                expected[(c, r, month, "n")] += n
                expected[(c, r, month, "failed")] += failed
    got = aggregate(run.leaves)
    assert len(got) * 2 == len(expected)
    for c, r, m, n, f in got[["category", "region", "month", "n", "failed"]].itertuples(
            index=False):
        assert expected[(c, r, m, "n")] == n and expected[(c, r, m, "failed")] == f
    top = got[(got["category"] == "*") & (got["region"] == "330000")]
    assert top["n"].sum() == run.leaves["n"].sum()
    assert top["failed"].sum() == run.leaves["failed"].sum()


def test_truth_is_volume_weighted_mean_of_leaves(run):
    truth = run.truth
    is_leaf = truth.set_index(["category", "region"]).index.isin(
        run.leaves.set_index(["category", "region"]).index.unique())
    leaf_truth = truth[is_leaf]
    # Leaf-level truth is the leaves' own true rate.
    merged = run.leaves.merge(leaf_truth, on=["category", "region", "month"],
                              suffixes=("", "_t"))
    assert len(merged) == len(run.leaves)
    np.testing.assert_allclose(merged["true_rate"], merged["true_rate_t"])
    # Every aggregate: expand leaf rows to their ancestors and take weighted means.
    rows = []
    for c, r, m, w, tr, sr in leaf_truth[["category", "region", "month", "n_expected",
                                          "true_rate", "sustained_rate"]].itertuples(
            index=False):
        for a in cat_ancestors(c):
            for b in region_ancestors(r):
                rows.append((a, b, m, w, w * tr, w * sr))
    exp = (pd.DataFrame(rows, columns=["category", "region", "month", "w", "wt", "ws"])
           .groupby(["category", "region", "month"], as_index=False).sum())
    both = truth.merge(exp, on=["category", "region", "month"], how="outer", indicator=True)
    assert (both["_merge"] == "both").all()
    np.testing.assert_allclose(both["n_expected"], both["w"], rtol=1e-9)
    np.testing.assert_allclose(both["true_rate"], both["wt"] / both["w"], rtol=1e-9)
    np.testing.assert_allclose(both["sustained_rate"], both["ws"] / both["w"], rtol=1e-9)


def test_floors_are_inherited(run):
    floors = run.series.set_index("category")["floor"].groupby(level=0).first()
    top_floor = {"food": 0.93, "drug": 0.95, "farm": 0.96, "industrial": 0.92, "*": 0.92}
    for code, floor in floors.items():
        assert floor == top_floor[code.split(".")[0]]


# ---- scenarios --------------------------------------------------------------------------------

def check_events(r) -> None:
    ev, truth, series = r.events, r.truth, r.series
    assert set(ev["kind"]) == {"gradual_drift", "sudden_drop", "dip", "stable"}
    assert (ev["level"] == "leaf").mean() >= 0.4
    assert (ev[ev["kind"].isin(SUSTAINED)]["level"] == "leaf").mean() >= 0.4
    for e in ev.itertuples(index=False):
        t = own(truth, e.category, e.region)
        assert len(t) == r.months
        below = t["sustained_rate"] < t["floor"]
        if e.kind == "gradual_drift":
            assert 4 <= e.end_month - e.start_month + 1 <= 12
            assert e.start_month <= e.crossing_month <= e.end_month
            assert not below[:e.crossing_month].any() and below[e.end_month:].all()
            np.testing.assert_allclose(t["sustained_rate"][e.end_month:], e.to_rate)
        elif e.kind == "sudden_drop":
            assert e.crossing_month == e.start_month == e.end_month
            assert not below[:e.start_month].any() and below[e.start_month:].all()
            np.testing.assert_allclose(t["sustained_rate"][e.start_month:], e.to_rate)
        elif e.kind == "dip":
            assert pd.isna(e.crossing_month) and not below.any()
            m = e.start_month
            assert t["true_rate"][m] == pytest.approx(e.to_rate)
            assert t["true_rate"][m] < t["sustained_rate"][m]
            same = np.r_[0:m, m + 1:r.months]
            np.testing.assert_allclose(t["true_rate"][same], t["sustained_rate"][same])
            row = series[(series["category"] == e.category) & (series["region"] == e.region)]
            assert row["crossing_month"].isna().all()
        else:
            assert pd.isna(e.crossing_month)
        if e.kind != "stable":
            assert e.start_month >= r.config.warmup


def test_events_cross_at_their_own_level(run):
    check_events(run)


def test_events_never_share_a_leaf_series(run):
    series = run.leaves[["category", "region"]].drop_duplicates()
    hits = Counter()
    for e in run.events.itertuples(index=False):
        for leaf, county in series.itertuples(index=False):
            if contains(e.category, e.region, leaf, county):
                hits[(leaf, county)] += 1
        assert e.n_leaf_series == sum(
            contains(e.category, e.region, lf, co) for lf, co in series.itertuples(index=False))
    assert max(hits.values()) == 1


def test_crossings_come_from_truth(run):
    truth = run.truth.sort_values(["category", "region", "month"])
    below = truth["below"].to_numpy().reshape(-1, run.months)
    keys = truth[["category", "region"]].to_numpy()[::run.months]
    series = run.series.set_index(["category", "region"]).loc[[tuple(k) for k in keys]]
    has = below.any(axis=1)
    assert (series["crossing_month"].notna().to_numpy() == has).all()
    np.testing.assert_array_equal(series["crossing_month"].to_numpy()[has].astype(int),
                                  below[has].argmax(axis=1))
    # Every crossing has a sustained cause that started by then.
    starts = run.events.set_index("event_id")
    crossing = series[has]
    assert crossing["cause_event_id"].notna().all()
    cause = starts.loc[crossing["cause_event_id"].astype(int)]
    assert (cause["start_month"].to_numpy() <= crossing["crossing_month"].to_numpy()).all()
    assert set(cause["kind"]) <= set(SUSTAINED)
    assert (crossing["scenario"].to_numpy() == cause["kind"].to_numpy()).all()
    # A one-month dip never puts a non-crossing series below its floor two months running.
    true_below = (truth["true_rate"] < truth["floor"]).to_numpy().reshape(-1, run.months)
    assert not (true_below[~has, 1:] & true_below[~has, :-1]).any()


def test_stable_series_stay_well_above(run):
    margin = run.config.stable_margin
    stable = run.series[run.series["stable_well_above"]]
    assert len(stable) > len(run.series) / 2
    assert set(stable["scenario"]) <= {"stable", "dip"}
    t = run.truth.merge(stable[["category", "region"]], on=["category", "region"])
    assert (t["sustained_rate"] >= t["floor"] + margin - 1e-12).all()
    no_dip = np.isclose(t["true_rate"], t["sustained_rate"])
    assert (t.loc[no_dip, "true_rate"] >= t.loc[no_dip, "floor"] + margin - 1e-12).all()
    others = run.series[~run.series["stable_well_above"]]
    assert (others["crossing_month"].notna() | (others["min_margin"] < margin)).all()


def test_below_within_horizon():
    truth = pd.DataFrame({
        "category": ["a"] * 6, "region": ["330000"] * 6, "month": range(6),
        "below": [False, False, False, False, True, True]})
    y = below_within(truth, horizon=3)
    assert y.tolist()[:3] == [0.0, 1.0, 1.0]
    assert y[3:].isna().all()


def test_subset_options():
    cfg = SimConfig(leaf_fraction=0.1, cities=("330900",), presence=1.0)
    r = simulate(5, 30, cfg)
    assert {c[:4] for c in r.leaves["region"]} == {"3309"}
    tops = {c.split(".")[0] for c in r.leaves["category"]}
    assert tops == {"food", "farm", "drug", "industrial"}
    with pytest.raises(ValueError):
        simulate(5, 30, SimConfig(cities=("330102",)))


# ---- follow-up sampling ---------------------------------------------------------------------

def test_follow_up_batches_come_only_after_failures_pile_up(run):
    """Extra batches in a month only when, in one of the `follow_months` months before it, the
    series' last 3 months of observed batches (extras included) held at least
    `follow_min_failed` failures and a failure rate above the floor's; and a county either
    follows up or does not."""
    cfg = run.config
    floor = dict(zip(run.series["category"], run.series["floor"]))
    followed_counties, checked = set(), 0
    for (cat, county), x in run.leaves.groupby(["category", "region"]):
        x = x.sort_values("month")
        n, f, extra = (x[c].to_numpy() for c in ("n", "failed", "follow_up"))
        n3 = np.convolve(n, np.ones(3))[:len(n)]
        f3 = np.convolve(f, np.ones(3))[:len(f)]
        trigger = (f3 >= cfg.follow_min_failed) & (f3 > n3 * (1 - floor[cat]))
        for t in np.flatnonzero(extra):
            assert trigger[max(0, t - cfg.follow_months):t].any(), (cat, county, t)
            checked += 1
        if extra.any():
            followed_counties.add(county)
    assert checked > 0
    assert 0 < len(followed_counties) < run.leaves["region"].nunique()


def test_truth_weighs_a_followed_up_leaf_by_its_planned_batches(run):
    """The floor is checked against the batch pass rate, so a month of follow-up sampling adds
    its planned batches (at least `follow_min_extra`) to the leaf's weight in every aggregate."""
    cfg = run.config
    t = run.leaves.merge(run.truth, on=["category", "region", "month"], suffixes=("", "_t"))
    on = t[t["follow_up"] > 0]
    assert len(on) > 0
    assert (on["n_expected"] >= cfg.follow_min_extra + cfg.n_min).all()
    # The bound is the plan's doing: many months without follow-up weigh less than that.
    assert (t.loc[t["follow_up"] == 0, "n_expected"] < cfg.follow_min_extra + cfg.n_min).mean() > 0.2


def test_follow_up_samples_the_failing_series_more():
    r = simulate(3, 48)
    share = (r.leaves.assign(on=r.leaves["follow_up"] > 0)
             .groupby(["category", "region"])["on"].mean())
    scen = r.series.set_index(["category", "region"])["scenario"].reindex(share.index)
    by = share.groupby(scen.to_numpy()).mean()
    assert by["gradual_drift"] > 2 * by["stable"] and by["sudden_drop"] > 2 * by["stable"]


def test_without_follow_up_no_extra_batches():
    r = simulate(11, MONTHS, SimConfig(leaf_fraction=0.3, cities=3, follow_share=0.0))
    assert (r.leaves["follow_up"] == 0).all()


# ---- properties ---------------------------------------------------------------------------

@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.integers(0, 2**32 - 1), months=st.integers(24, 60),
       leaf_fraction=st.sampled_from([0.15, 0.3]), cities=st.integers(1, 4),
       concentration=st.sampled_from([50.0, 200.0, 1e6]))
def test_property_any_seed(seed, months, leaf_fraction, cities, concentration):
    cfg = SimConfig(leaf_fraction=leaf_fraction, cities=cities, presence=0.4,
                    concentration=concentration)
    r = simulate(seed, months, cfg)
    assert r.leaves["n"].between(1, 500).all()
    check_events(r)
    grand = r.truth[(r.truth["category"] == "*") & (r.truth["region"] == "330000")]
    assert len(grand) == months
    agg = aggregate(r.leaves)
    grand_obs = agg[(agg["category"] == "*") & (agg["region"] == "330000")]
    assert grand_obs["n"].sum() == r.leaves["n"].sum()
    stable = r.series[r.series["stable_well_above"]]
    assert (stable["min_margin"] >= cfg.stable_margin - 1e-12).all()


def test_a_sensitivity_run_evaluates_the_world_it_names(tmp_path, monkeypatch):
    """`evaluate --sim follow_share=...` must simulate that world and cache it apart from
    the default one, or a sensitivity run silently reports the default world's figures."""
    import dataclasses

    from bench.warning import evaluate as ev
    monkeypatch.setattr(ev, "CACHE", tmp_path)
    followed = dataclasses.replace(SMALL, follow_share=1.0)
    unfollowed = dataclasses.replace(SMALL, follow_share=0.0)
    a = ev.run_seed(3, 24, config=followed)
    b = ev.run_seed(3, 24, config=unfollowed)
    assert len(list(tmp_path.glob("*.pkl"))) == 2
    assert not np.array_equal(a["feats"], b["feats"], equal_nan=True)
    again = ev.run_seed(3, 24, config=followed)  # from the cache
    assert np.array_equal(again["feats"], a["feats"], equal_nan=True)
    assert len(list(tmp_path.glob("*.pkl"))) == 2
    assert ev.sim_config(["follow_share=0.25", "follow_months=2"]) == dataclasses.replace(
        ev.DEFAULT_SIM, follow_share=0.25, follow_months=2)
    with pytest.raises(SystemExit, match="SimConfig field"):
        ev.sim_config(["follow_shares=0.25"])
