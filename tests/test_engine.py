"""Unit tests of the pure early-warning engine (warning/engine). Fast; speed not tested."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest

from warning.engine import Settings, assess, features, panel_from_long
from warning.engine.levels import LEVELS, RANK, levels
from warning.engine.pooling import mom_relative_variance, shrink
from warning.engine.trend import fit_logistic

CAT_PARENT = {"food": None, "food.a": "food", "food.b": "food"}
REG_PARENT = {"330000": None, "330100": "330000", "330102": "330100", "330103": "330100",
              "330104": "330100", "330105": "330100", "330200": "330000", "330201": "330200",
              "330202": "330200"}
COUNTIES = ["330102", "330103", "330104", "330105", "330201", "330202"]


def _month(i):
    return f"{2023 + i // 12:04d}-{i % 12 + 1:02d}"


def make_panel(T=24, n_leaf=30, rate=0.98, seed=0, bad=None, small=None):
    """Leaves food.a/food.b x 6 counties, aggregated to every level. bad: {(leaf, county):
    fn(t) -> pass rate}; small: {(leaf, county): n per month}."""
    rng = np.random.default_rng(seed)
    rows = []
    for leaf in ("food.a", "food.b"):
        for c in COUNTIES:
            for t in range(T):
                n = (small or {}).get((leaf, c), n_leaf)
                r = (bad or {}).get((leaf, c), lambda t: rate)(t)
                f = rng.binomial(n, 1 - r)
                for cat in (leaf, "food", "*"):
                    for reg in (c, REG_PARENT[c], "330000"):
                        rows.append((cat, reg, _month(t), n, f))
    df = pd.DataFrame(rows, columns=["category", "region", "month", "n", "failed"])
    return panel_from_long(df, lambda c: 0.93, CAT_PARENT, REG_PARENT)


def _row(out, cat, reg):
    return out[(out["category"] == cat) & (out["region"] == reg)].iloc[0]


def test_panel_builder_sums_and_parents():
    p = make_panel(T=6)
    assert p.n.shape == (len(p.keys), 6)
    k = p.keys.set_index(["category", "region"])
    assert k.loc[("food", "330000"), "parent_category"] == "*"
    assert pd.isna(k.loc[("*", "330000"), "parent_category"])
    i = p.parent_index()
    keys = list(zip(p.keys["category"], p.keys["region"]))
    assert keys[i[keys.index(("food.a", "330102"))]] == ("food.a", "330100")
    assert keys[i[keys.index(("food.a", "330000"))]] == ("food", "330000")
    assert i[keys.index(("*", "330000"))] == -1
    assert p.n[keys.index(("*", "330000"))].max() == 12 * 30


def test_shrinkage_pulls_one_of_four_toward_parent():
    a, b = shrink(np.array([1.0]), np.array([4.0]), np.array([0.02]), 200.0)
    post = a / (a + b)
    assert 0.02 < post[0] < 0.03  # raw 25% failure -> close to the parent's 2%
    # and in the engine: a county series with 4 batches a month, one failed batch this month
    p = make_panel(small={("food.a", "330102"): 4}, seed=3)
    i = list(zip(p.keys["category"], p.keys["region"])).index(("food.a", "330102"))
    p.failed[i, :-1] = 0
    p.failed[i, -1] = 1
    out = assess(p)
    r = _row(out, "food.a", "330102")
    assert r["level"] not in ("yellow", "orange", "red")
    assert r["pass_rate"] > 0.93


def test_a_thin_parent_does_not_lend_its_noise_to_its_children():
    # food.b in city 330200: one batch in two years (its county's), no failure. The county
    # borrows from the city, and the city from the province; the city's half-batch raw rate
    # (a 25% failure rate from one passed batch) must not become the county's estimate.
    p = make_panel(small={("food.b", "330201"): 0, ("food.b", "330202"): 0}, seed=2)
    keys = list(zip(p.keys["category"], p.keys["region"]))
    for key in [("food.b", "330201"), ("food.b", "330200")]:
        p.n[keys.index(key), 0] = 1
    out = assess(p)
    province = _row(out, "food.b", "330000")["pass_rate"]
    for county in ("330201", "330202"):
        r = _row(out, "food.b", county)
        assert abs(r["pass_rate"] - province) < 0.01, county
        assert r["prob_below"] < 0.05 and r["level"] == "none", county


def test_mom_relative_variance_detects_heterogeneity():
    rng = np.random.default_rng(1)
    g = np.repeat(np.arange(50), 6)
    n = np.full(g.size, 400.0)
    homo = rng.binomial(400, 0.05, g.size).astype(float)
    rates = np.clip(rng.normal(0.05, 0.02, g.size), 0.001, 0.5)
    het = rng.binomial(400, rates).astype(float)
    assert mom_relative_variance(het, n, g) > 3 * mom_relative_variance(homo, n, g)


def _city_drift():
    # food.a drifts down in every county of city 330100 over the last 8 months
    drift = lambda t: 0.98 if t < 16 else 0.98 - (t - 15) * 0.008  # noqa: E731
    bad = {("food.a", c): drift for c in COUNTIES[:4]}
    return assess(make_panel(bad=bad, n_leaf=8, seed=5))


def test_city_wide_drift_raises_risk():
    out = _city_drift()
    # The last 3 months' true rates average 92.4% against the 93% floor, 96 batches for the
    # city: a probability near a half is what the evidence supports (each county's baseline
    # borrows the city's pooled baseline, not its raw rate, which already held the drift).
    city = _row(out, "food.a", "330100")
    assert city["prob_below"] > 0.4 and city["trend_points_per_month"] < 0
    drifting = [_row(out, "food.a", c)["prob_below"] for c in COUNTIES[:4]]
    quiet = [_row(out, "food.a", c)["prob_below"] for c in COUNTIES[4:]]
    assert min(drifting) > 0.4 and max(quiet) < 0.05


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_irls_matches_sklearn(seed):
    from sklearn.linear_model import LogisticRegression
    rng = np.random.default_rng(seed)
    S, T = 4, 12
    n = rng.integers(5, 60, (S, T)).astype(float)
    t = np.arange(T) - (T - 1.0)
    p = 1 / (1 + np.exp(-(-2.5 + 0.08 * t[None, :] + rng.normal(0, 0.3, (S, 1)))))
    f = rng.binomial(n.astype(int), p).astype(float)
    f[:, 0] = np.maximum(f[:, 0], 1)
    beta, cov, *_ = fit_logistic(np.column_stack([np.ones(T), t]), n, f)
    for s in range(S):
        X = np.r_[t, t][:, None]
        y = np.r_[np.ones(T), np.zeros(T)]
        w = np.r_[f[s], n[s] - f[s]]
        lr = LogisticRegression(C=1e8, tol=1e-10, max_iter=10_000).fit(X, y, sample_weight=w)
        np.testing.assert_allclose(beta[s], [lr.intercept_[0], lr.coef_[0, 0]], atol=1e-4)
        assert np.all(np.linalg.eigvalsh(cov[s]) > 0)


def test_probabilities_in_unit_interval_and_outputs_complete():
    p = make_panel(small={("food.b", "330201"): 1}, seed=7)
    p.n[0, -2:] = 0  # a series with empty recent months
    p.failed[0, -2:] = 0
    out = assess(p)
    assert len(out) == p.S
    assert out["prob_below"].between(0, 1).all()
    assert out["p_now"].between(0, 1).all()
    assert (out["pass_rate_lo"] <= out["pass_rate"] + 1e-12).all()
    assert (out["pass_rate"] <= out["pass_rate_hi"] + 1e-12).all()
    assert (out["forecast_3_lo"] <= out["forecast_3_hi"]).all()
    assert out[["pass_rate", "forecast_1", "prob_below"]].notna().all().all()
    F = features(p)
    assert np.isfinite(F.select_dtypes("number").drop(columns=["rate3"])).all().all()


def test_levels_monotone_in_probability():
    thr = {"blue": 0.2, "yellow": 0.45, "orange": 0.75}  # any increasing thresholds
    prob = np.linspace(0, 1, 101)
    for p_now in (0.0, 0.5, 0.99):
        lv = levels(prob, np.full(prob.size, p_now), thr, 0.975)
        ranks = [RANK[x] for x in lv]
        assert ranks == sorted(ranks)
    assert set(levels(prob, np.zeros(101), thr)) <= set(LEVELS) - {"red"}


def test_reasons_mention_floor_and_month():
    bad = {("food.a", c): (lambda t: 0.98 if t < 20 else 0.88) for c in COUNTIES}
    out = assess(make_panel(bad=bad, seed=2))
    r = _row(out, "food.a", "330000")
    assert "93% floor" in r["reason_en"] and "2025-03" in r["reason_en"]
    assert "93%底线" in r["reason_zh"] and "2025年3月" in r["reason_zh"]
    assert r["level"] in ("orange", "red")


def test_risk_model_roundtrip(tmp_path):
    from warning.engine.risk import FEATURES, RiskModel
    rng = np.random.default_rng(0)
    X = pd.DataFrame(rng.normal(size=(600, len(FEATURES))), columns=FEATURES)
    y = (X["gap_logit"] + rng.normal(0, 0.5, 600) > 0.5).astype(int)
    m = RiskModel(kind="logistic").fit(X, y, label="test")
    m.save(tmp_path / "m.joblib")
    m2 = RiskModel.load(tmp_path / "m.joblib")
    assert m2.meta["sklearn"] and m2.meta["numpy"]
    np.testing.assert_allclose(m.predict(X), m2.predict(X))
    p = make_panel(T=14, seed=1)
    out = assess(p, Settings(), model=m2)
    assert out["prob_below"].between(0, 1).all()


def test_evidence_rules_for_levels():
    from warning.engine.levels import levels
    thresholds = {"blue": 0.5, "yellow": 0.8, "orange": 0.9}
    prob = np.array([0.99, 0.99, 0.99, 0.85])
    p_now = np.array([0.99, 0.99, 0.99, 0.99])
    recent = np.array([0, 3, 12, 12])
    assert list(levels(prob, p_now, thresholds, 0.975, recent, 5)) == ["blue", "orange", "red", "red"]
    assert list(levels(prob, p_now, thresholds, 0.975)) == ["red", "red", "red", "red"]


def test_thresholds_by_volume_band_apply_per_series():
    from warning.engine.levels import per_series
    thresholds = {"lt20": {"blue": 0.5, "yellow": 0.8, "orange": 0.9},
                  "gt100": {"blue": 0.1, "yellow": 0.3, "orange": 0.6}}
    band = np.array(["lt20", "gt100", "20to100"])  # 20to100 not listed: the strictest applies
    prob = np.full(3, 0.7)
    lv = levels(prob, np.zeros(3), per_series(thresholds, band))
    assert list(lv) == ["blue", "orange", "blue"]
    with pytest.raises(ValueError):
        levels(prob, np.zeros(3), thresholds)


def test_volume_band_follows_the_series_own_batches():
    p = make_panel(small={("food.a", "330102"): 4}, n_leaf=30, seed=4)
    F = features(p)
    assert _row(F, "food.a", "330102")["band"] == "lt20"
    assert _row(F, "food.a", "330103")["band"] == "20to100"
    assert _row(F, "*", "330000")["band"] == "gt100"


def test_the_evaluation_bands_every_month_as_the_engine_does():
    """bench/warning/evaluate tunes thresholds per band with its own vectorised banding of
    every month; it must agree with the engine's (`assess.band_volume`) or the thresholds are
    tuned on other series than they are applied to."""
    from bench.warning.evaluate import observed_band
    from warning.engine.assess import band_volume, volume_band
    rng = np.random.default_rng(7)
    n = rng.poisson(rng.choice([3.0, 15.0, 30.0, 90.0, 150.0], size=(400, 1)), size=(400, 30))
    n[:50, -4:] *= 4  # a burst of follow-up sampling (the band still reads the 12 months)
    edges = (20.0, 100.0)
    got = observed_band(n, edges)
    for t in range(n.shape[1]):
        assert (got[:, t] == volume_band(band_volume(n[:, :t + 1]), edges)).all(), t


def _drifting_history(T=30):
    bad = {("food.a", c): (lambda t: 0.98 if t < 18 else 0.88) for c in COUNTIES[:3]}
    return make_panel(T=T, bad=bad, n_leaf=20, seed=6)


def test_training_sees_only_what_was_known_at_each_label_month():
    from warning.engine.training import training_set
    s = Settings(train_months=6)
    p = _drifting_history()
    X, y, months = training_set(p, s)
    assert months == p.months[p.T - 1 - s.horizon - 5: p.T - s.horizon]  # outcomes known by as-of
    assert y.sum() > 0 and (1 - y).sum() > 0
    # The last month's data change the last label month's outcome, never any features.
    q = _drifting_history()
    q.failed[:, -1] = 0
    X2, y2, _ = training_set(q, s)
    pd.testing.assert_frame_equal(X, X2)
    assert not np.array_equal(y, y2)
    rows = len(X) // len(months)
    np.testing.assert_array_equal(y[:-rows], y2[:-rows])


def test_a_short_history_trains_no_model_and_says_why():
    from warning.engine.training import train_on_history
    model, summary = train_on_history(_drifting_history(T=16), Settings())
    assert model is None and "history too short" in summary["reason"]
    model, summary = train_on_history(_drifting_history(), Settings(train_min_rows=100, train_min_positives=5))
    assert model is not None and summary["version"].startswith("sklearn-hgb-")
    assert summary["rows"] > 0 and summary["positives"] >= 5
    out = assess(_drifting_history(), Settings(), model)
    assert out["prob_below"].between(0, 1).all()


def _all_pass_then(bad_from=None, T=24):
    """Every series without a failure; from month `bad_from` on, food.a in 330102 fails 20%."""
    bad = {} if bad_from is None else {("food.a", "330102"): lambda t: 0.80 if t >= bad_from else 1.0}
    return make_panel(T=T, rate=1.0, bad=bad)


def test_series_without_any_failure_get_a_finite_low_probability():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no divide-by-zero on the way either
        out = assess(_all_pass_then())

    assert np.isfinite(out["prob_below"]).all()
    assert np.isfinite(out[["pass_rate", "pass_rate_lo", "pass_rate_hi"]].to_numpy()).all()
    assert (out["prob_below"] < 0.05).all()
    assert set(out["level"]) == {"none"}


def test_failures_after_21_months_without_any_are_flagged():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = assess(_all_pass_then(bad_from=21))

    assert np.isfinite(out["prob_below"]).all()
    hit = _row(out, "food.a", "330102")
    assert RANK[hit["level"]] >= RANK["yellow"]
    calm = out[(out["category"] == "food.b")]
    assert (calm["prob_below"] < hit["prob_below"]).all()


def test_history_thresholds_follow_the_scores_of_months_that_turned_out_fine():
    from warning.engine.training import history_thresholds
    rng = np.random.default_rng(0)
    s = Settings(model_thresholds_min_rows=500)
    scores = np.concatenate([rng.uniform(0, 0.1, 4000), rng.uniform(0, 0.01, 300)])
    y = np.zeros(scores.size, int)
    y[:100] = 1  # crossings do not move the thresholds
    scores[:100] = 0.99
    volume = np.concatenate([np.full(4000, 50.0), np.full(300, 200.0)])  # 20to100, then gt100

    thr = history_thresholds(scores, y, np.log1p(volume), s)

    band = thr["20to100"]
    assert band["blue"] < band["yellow"] < band["orange"] < 0.1
    calm = scores[100:4000]
    for level, share in s.model_false_alarm_share.items():
        assert np.mean(calm >= band[level]) == pytest.approx(share, abs=0.002)
    assert thr["gt100"] == s.model_thresholds["gt100"]  # 300 fine months: too few, fallback
    assert thr["lt20"] == s.model_thresholds["lt20"]


def test_negative_subsampling_keeps_every_positive_and_the_base_rate():
    from warning.engine.risk import subsample_negatives
    y = (np.random.default_rng(11).random(50_000) < 0.04).astype(int)
    rows, w = subsample_negatives(y, 60_000)
    assert len(rows) == len(y) and w is None  # everything fits: nothing dropped
    rows, w = subsample_negatives(y, 10_000)
    assert len(rows) == 10_000 and y[rows].sum() == y.sum()
    assert abs((w * y[rows]).sum() / w.sum() - y.mean()) < 1e-9


def test_shipped_level_thresholds_are_the_evaluations_calibration():
    """The thresholds the product runs with are the ones `python -m bench.warning.evaluate`
    calibrated on the tuning seeds and wrote to bench/warning/calibration.json (it prints them
    for warning/engine/settings.py): a new calibration not pasted there fails here."""
    import json
    from pathlib import Path

    from warning.engine import DEFAULT_SETTINGS
    path = Path(__file__).resolve().parents[1] / "bench" / "warning" / "calibration.json"
    calibration = json.loads(path.read_text())
    assert DEFAULT_SETTINGS.thresholds == calibration["thresholds"]
    assert DEFAULT_SETTINGS.model_thresholds == calibration["model_thresholds"]
    for by_band in (DEFAULT_SETTINGS.thresholds, DEFAULT_SETTINGS.model_thresholds):
        for t in by_band.values():
            assert t["blue"] <= t["yellow"] <= t["orange"]


class _LowScoreModel:
    """A risk model whose score stays near a history's base rate whatever the series does."""
    meta = {"thresholds": {"blue": 0.05, "yellow": 0.07, "orange": 0.5}}

    def predict(self, F):
        return np.full(len(F), 0.08)


def test_a_red_series_never_shows_a_low_probability_of_being_below():
    # food.a in 330102 at 80% for the last year against a 93% floor: red ("below now"); the
    # model's 8% must not be published as its probability of being below the floor.
    p = make_panel(T=24, bad={("food.a", "330102"): lambda t: 0.98 if t < 12 else 0.80})
    out = assess(p, Settings(), model=_LowScoreModel())
    r = _row(out, "food.a", "330102")
    assert r["level"] == "red"
    assert r["prob_below"] >= Settings().red_confidence
    assert r["prob_below"] >= r["p_now"]
    assert "100%" in r["reason_zh"] and "当前已确定低于底线" in r["reason_zh"]
    # Below red the score is published as it is, and every red outranks every other level.
    others = out[out["level"] != "red"]
    assert (others["prob_below"] == 0.08).all()
    assert out.loc[out["level"] == "red", "prob_below"].min() > others["prob_below"].max()


def test_reasons_name_the_months_they_cover():
    out = assess(make_panel(T=24, small={("food.a", "330102"): 1}), Settings())
    r = _row(out, "food.a", "330102")  # the panel's last month is 2024-12
    assert r["reason_zh"].startswith("2024年10月至2024年12月合格率") and "（3批）" in r["reason_zh"]
    assert r["reason_en"].startswith("pass rate ") and " in 2024-10 to 2024-12 (3 batches)" in r["reason_en"]
    one = assess(make_panel(T=22, small={("food.a", "330102"): 1}).upto(20, 24), Settings())
    assert "2024-07 to 2024-09" in _row(one, "food.a", "330102")["reason_en"]
    from warning.engine.reasons import reasons
    en = reasons([1.0], [1], [0.0], [0.03], [0.93], "2026-11", 3, ["none"], "en")[0]
    assert en.startswith("pass rate 100.0% in 2026-09 to 2026-11 (1 batch),")


class _SilentModel:
    """A risk model that never scores a series above its thresholds."""
    meta = {"thresholds": {"blue": 0.5, "yellow": 0.7, "orange": 0.9}}

    def predict(self, F):
        return np.zeros(len(F))


def test_own_batches_clearly_below_the_floor_are_red_whatever_the_model_says():
    # food.a in 330102 fine for 21 months, then 75% for three (about 22 failures in 90 batches
    # against a 93% floor): the estimate, shrunk toward its parents, and the model may both
    # miss it; its own batches do not.
    p = make_panel(T=24, bad={("food.a", "330102"): lambda t: 0.98 if t < 21 else 0.75})
    out = assess(p, Settings(), model=_SilentModel())
    r = _row(out, "food.a", "330102")
    assert r["level"] == "red" and r["prob_below"] >= 0.99
    assert "below the 93% floor beyond chance" in r["reason_en"]
    assert "低于93%底线，超出偶然波动" in r["reason_zh"] and "当前已确定低于底线" in r["reason_zh"]
    # Its healthy siblings stay unflagged: the rule is about the series' own batches.
    assert (out.loc[out["region"] != "330102", "level"] == "none").all()
    # Without the rule (alpha 0) the same model leaves it unflagged: the rule is what flags it.
    quiet = assess(p, Settings(own_red_alpha=0.0, own_watch_alpha=0.0), model=_SilentModel())
    assert _row(quiet, "food.a", "330102")["level"] == "none"


def test_own_batch_rules_need_enough_batches_and_grade_by_chance():
    from warning.engine.levels import own_below_p
    p = own_below_p(np.array([19, 19, 10, 0, 1]), np.array([5, 2, 0, 0, 1]), np.full(5, 0.93))
    assert p[0] == pytest.approx(0.0085, abs=5e-4)  # 5 of 19 failed: unlikely at 93%
    assert p[1] > 0.3 and p[2] == 1.0 and p[3] == 1.0  # 2 of 19, none failed, no batch
    assert p[4] == pytest.approx(0.07)  # one failed batch of one: 7% at a 93% floor
    thresholds = {"blue": 0.5, "yellow": 0.8, "orange": 0.9}
    prob, p_now = np.zeros(4), np.zeros(4)
    own = np.array([0.005, 0.03, 0.2, 0.005])
    recent = np.array([19, 19, 19, 4])  # the last: too few batches to judge on their own
    assert list(levels(prob, p_now, thresholds, 0.975, recent, 5, own, 0.01, 0.05)) == [
        "red", "blue", "none", "none"]
    # The watch rule never lowers a level the probability gave.
    assert list(levels(np.full(4, 0.85), p_now, thresholds, 0.975, recent, 5, own, 0.01, 0.05)) == [
        "red", "yellow", "yellow", "yellow"]


def test_reasons_say_when_the_recent_rate_is_under_the_floor_and_which_months_are_forecast():
    from warning.engine.reasons import reasons
    args = ([0.917, 0.99], [156, 40], [-0.2, 0.0], [0.05, 0.01], [0.93, 0.93], "2026-11", 3,
            ["yellow", "none"])
    en = reasons(*args, "en", [0.28, 1.0])
    assert en[0] == ("pass rate 91.7% in 2026-09 to 2026-11 (156 batches), below the 93% floor but "
                     "within chance of it, falling 0.2 points a month; 5% chance below the floor "
                     "in 2026-12 to 2027-02")
    assert en[1].endswith("about flat; 1% chance below the 93% floor in 2026-12 to 2027-02")
    zh = reasons(*args, "zh", [0.28, 1.0])
    assert zh[0] == ("2026年9月至2026年11月合格率91.7%（156批），低于93%底线，尚在偶然波动范围内，"
                     "每月下降0.2个百分点；2026年12月至2027年2月低于底线的概率为5%")
    assert zh[1].endswith("2026年12月至2027年2月低于93%底线的概率为1%")
