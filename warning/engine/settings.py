"""Engine settings. The level thresholds are not guessed: `bench/warning/evaluate.py` calibrates
them on the simulator's tuning seeds (see `thresholds` below)."""
from __future__ import annotations

from dataclasses import dataclass, field, replace


@dataclass(frozen=True)
class Settings:
    horizon: int = 3              # months ahead for the "below the floor within" probability
    window: int = 24              # months of history the engine reads
    trend_window: int = 12        # months the trend is fitted on
    half_life: float = 1.5        # months, for the current-rate estimate
    baseline_gap: int = 3         # the baseline excludes the most recent months
    parent_pseudo: float = 20.0   # pseudo-batches smoothing a parent's recent change
    recent_kappa: float | None = None  # prior strength (batches) of the recent rate; None: estimated
    kappa_bounds: tuple = (10.0, 300.0)
    slope_prior_sd: float = 0.04  # logit/month: a series' slope around its parent's
    season: bool = True           # annual term from the top category x province series
    interval: float = 0.90        # the current rate's interval
    red_confidence: float = 0.975  # red: P(current rate below floor) at least this
    red_min_batches: int = 5      # red also needs this many batches in the last 3 months
    # Whatever the estimate: red when the last 3 months' own batches are below the floor beyond
    # chance at this level (exact binomial test), at least blue (watch) at the second.
    own_red_alpha: float = 0.01
    own_watch_alpha: float = 0.05
    band_edges: tuple = (20.0, 100.0)  # batches a month (own mean, last 12 months): thresholds by band
    # The risk model, trained on the province's own history (warning/engine/training.py).
    model_kind: str = "hgb"       # "hgb" (gradient boosting) or "logistic", both calibrated
    train_months: int = 12        # label months it learns from (the latest with an outcome)
    # A label month counts as "crossed" when the next `horizon` months' failures are beyond
    # chance at the floor (one-sided, this level); chosen on the tuning seeds (evaluate --select).
    label_alpha: float = 0.2
    train_min_data_months: int = 12  # a label month needs this many months of data up to it
    train_min_label_months: int = 6  # fewer: the scan stays classical and says why
    train_min_rows: int = 2000       # series-months needed (a province, not a handful)
    train_min_positives: int = 50    # examples of each outcome needed
    # Above this many series-months: every one followed by a crossing and a weighted share of
    # the others (risk.subsample_negatives). A province's 12 label months are ~200,000 of them,
    # so it learns from all; more rows gave a better ranking on the tuning seeds (crossings
    # flagged at 5 false alarms, trained on seeds 1-10, measured on 11-15: 0.356 with 120,000
    # rows, 0.375 with 1,000,000, 0.379 with 2,000,000 at twice the time).
    train_max_rows: int = 1_000_000
    # Probability thresholds for blue / yellow / orange by volume band, calibrated by
    # `bench/warning/evaluate.py` on the tuning seeds to 20 / 5 / 1 false-alarm episodes per
    # 100 series-years on stable series in each band, over the margin for the seed-to-seed
    # spread; pasted as it prints them (tests/test_engine.py checks they equal
    # bench/warning/calibration.json, which it writes).
    thresholds: dict = field(default_factory=lambda: {
        "lt20": {"blue": 0.7958, "yellow": 0.9942, "orange": 1.0},
        "20to100": {"blue": 0.4015, "yellow": 0.8328, "orange": 0.994},
        "gt100": {"blue": 0.1148, "yellow": 0.451, "orange": 0.8557}})
    # A model trained on the province's own history is calibrated to that history's base
    # rates, not the simulator's, so its level thresholds are set at training time instead
    # (training.history_thresholds): per volume band, the score that this share of the
    # training series-months *not* followed by a crossing reach. `model_thresholds` below is
    # the fallback for a band with too few such months (and what the evaluation tunes).
    model_false_alarm_share: dict = field(default_factory=lambda: {
        "blue": 0.01, "yellow": 0.002, "orange": 0.0005})
    model_thresholds_min_rows: int = 500
    model_thresholds: dict = field(default_factory=lambda: {
        "lt20": {"blue": 0.0573, "yellow": 0.0923, "orange": 0.206},
        "20to100": {"blue": 0.0499, "yellow": 0.1145, "orange": 0.301},
        "gt100": {"blue": 0.0333, "yellow": 0.1098, "orange": 0.3485}})

    def with_(self, **kw) -> "Settings":
        return replace(self, **kw)


DEFAULT_SETTINGS = Settings()
