"""The early-warning backtest: every series assessed as the system would have at each month end."""
from __future__ import annotations

import csv
from datetime import date

import pytest
from sqlalchemy import func, select

from core.clock import shift_month
from core.models import Base
from core.reference.floors import set_floor
from core.reference.trees import load_trees
from tests.series_data import DROP, MILK, csv_rows, load
from warning.backtest import COLUMNS, Expanded, floors_at, load_batches, run_backtest

STABLE, DEGRADING, LATE = "330106", "330212", "330102"  # Xihu, Yinzhou, Shangcheng
AS_OF = "2024-06"
LATE_REPORT = "2024-08-05"  # the late series' bad months are all reported in August


@pytest.fixture
def world(db_session, admin):
    """24 months to AS_OF: a stable series, one degrading sharply, and one degrading just as
    sharply whose failures were only reported in August 2024."""
    user, _ = admin
    months = [shift_month(AS_OF, k) for k in range(-23, 1)]
    rows = []
    for i, month in enumerate(months):
        rows.append(csv_rows(STABLE, month, 20, 1 if i % 4 == 0 else 0))
        bad = DROP[i - 18] if i >= 18 else (1 if i % 4 == 0 else 0)
        rows.append(csv_rows(DEGRADING, month, 20, bad))
        rows.append(csv_rows(LATE, month, 20, bad, LATE_REPORT if i >= 18 else None))
    load(db_session, user.id, "".join(rows))
    return user


def by_key(rows: list[dict]) -> dict:
    return {(r["as_of"], r["category"], r["region"]): r for r in rows}


def test_the_csv_has_the_header_sorted_rows_and_only_blue_or_above(db_session, world, runner, tmp_path):
    out = tmp_path / "alerts.csv"
    result = runner.invoke(args=["warning", "backtest", "--from", "2024-04", "--to", "2024-08",
                                 "--output", str(out)])
    assert result.exit_code == 0, result.output
    assert "5 months" in result.output
    raw = out.read_bytes()
    assert raw.decode("utf-8").splitlines()[0] == ",".join(COLUMNS)
    assert b"\r\n" not in raw
    with out.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert rows and list(rows[0]) == list(COLUMNS)
    keys = [(r["as_of"], r["category"], r["region"]) for r in rows]
    assert keys == sorted(keys) and len(set(keys)) == len(keys)
    assert {r["level"] for r in rows} <= {"blue", "yellow", "orange", "red"}
    assert {r["as_of"] for r in rows} <= {"2024-04", "2024-05", "2024-06", "2024-07", "2024-08"}
    for r in rows:
        assert 0 <= float(r["probability"]) <= 1 and 0 <= float(r["rate"]) <= 1 and r["reason"]
    # Every level of both trees: the degrading district's city, province and category ancestors.
    june = {(r["category"], r["region"]) for r in rows if r["as_of"] == AS_OF}
    assert (MILK, DEGRADING) in june
    assert any(c == MILK and reg in ("330200", "330000") for c, reg in june) or \
        any(c in ("food.dairy", "food", "*") for c, _ in june)


def test_a_degrading_series_is_flagged_and_a_stable_one_is_not(db_session, world):
    rows = by_key(run_backtest(db_session, "2024-01", AS_OF))
    assert rows[(AS_OF, MILK, DEGRADING)]["level"] in ("yellow", "orange", "red")
    assert rows[(AS_OF, MILK, DEGRADING)]["rate"] < 0.93
    assert not any(k[2] == STABLE for k in rows)


def test_a_batch_counts_only_from_the_month_it_was_reported(db_session, world):
    trees = load_trees(db_session)
    expanded = Expanded(load_batches(db_session), trees)

    def cell(as_of, month, region=LATE):
        f = expanded.counts_known_at(as_of)
        hit = f[(f["category"] == MILK) & (f["region"] == region) & (f["month"] == month)]
        return (float(hit["n"].sum()), float(hit["failed"].sum()))

    assert cell("2024-06", "2024-06") == (20 - 15, 0)  # the 15 failures are not known yet
    assert cell("2024-07", "2024-06") == (20 - 15, 0)
    assert cell("2024-08", "2024-06") == (20, 15)
    assert cell("2024-06", "2024-06", DEGRADING) == (20, 15)
    # Up the trees too: the province and '*' count the late failures only from August.
    assert expanded.counts_known_at("2024-08").query("category == '*' and region == '330000' "
                                                      "and month == '2024-06'")["failed"].sum() == 15 + 15
    assert expanded.counts_known_at("2024-06").query("category == '*' and region == '330000' "
                                                      "and month == '2024-06'")["failed"].sum() == 15

    rows = by_key(run_backtest(db_session, AS_OF, "2024-08"))
    assert (AS_OF, MILK, LATE) not in rows  # known at June: a clean series
    assert rows[("2024-08", MILK, LATE)]["level"] in ("yellow", "orange", "red")


def test_a_dated_floor_applies_only_from_its_date(db_session, world):
    set_floor(db_session, MILK, 0.999, date(2024, 5, 1), "raised", world.id)
    trees = load_trees(db_session)
    assert floors_at(trees, [MILK, "food"], "2024-04") == {MILK: 0.93, "food": 0.93}
    assert floors_at(trees, [MILK, "food"], "2024-05") == {MILK: 0.999, "food": 0.93}

    rows = by_key(run_backtest(db_session, "2024-04", "2024-05"))
    assert ("2024-04", MILK, STABLE) not in rows  # about 99% against 0.93
    assert rows[("2024-05", MILK, STABLE)]["level"] in ("blue", "yellow", "orange", "red")  # against 0.999


def _table_counts(session) -> dict:
    return {t.name: session.scalar(select(func.count()).select_from(t)) for t in Base.metadata.sorted_tables}


def test_the_backtest_writes_nothing_to_the_database(db_session, world, runner, tmp_path):
    before = _table_counts(db_session)
    db_session.commit()
    rows = run_backtest(db_session, "2024-01", "2024-08")
    assert rows
    assert not db_session.new and not db_session.dirty and not db_session.deleted
    result = runner.invoke(args=["warning", "backtest", "--from", "2024-01", "--to", "2024-08",
                                 "--output", str(tmp_path / "a.csv")])
    assert result.exit_code == 0, result.output
    db_session.rollback()
    assert _table_counts(db_session) == before


def test_the_backtest_command_refuses_bad_months(db_session, runner, tmp_path):
    out = str(tmp_path / "a.csv")
    for first, last in (("2024-13", "2024-06"), ("2024-01", "June"), ("2024-06", "2024-01")):
        result = runner.invoke(args=["warning", "backtest", "--from", first, "--to", last, "--output", out])
        assert result.exit_code == 2 and "error" in result.output, (first, last, result.output)
    empty = runner.invoke(args=["warning", "backtest", "--from", "2024-01", "--to", "2024-02", "--output", out])
    assert empty.exit_code == 0, empty.output
    assert (tmp_path / "a.csv").read_text(encoding="utf-8") == ",".join(COLUMNS) + "\n"


def test_once_everything_is_known_the_backtest_agrees_with_a_scan(db_session, world):
    from warning.models import Assessment
    from warning.scan import run_scan

    rows = by_key(run_backtest(db_session, "2024-08", "2024-08"))
    scan = run_scan(db_session, "2024-08", "test")
    scanned = {("2024-08", a.category_code, a.region_code): a for a in db_session.scalars(
        select(Assessment).where(Assessment.scan_id == scan.id))}
    flagged = {k for k, a in scanned.items() if a.level != "none"}
    assert flagged == set(rows) and rows
    for k, r in rows.items():
        a = scanned[k]
        assert (r["level"], r["reason"]) == (a.level, a.reasons["en"])
        assert r["probability"] == pytest.approx(a.probability) and r["rate"] == pytest.approx(a.pass_rate)


def test_the_backtest_trains_each_month_on_what_was_known_then(db_session, world, monkeypatch):
    import warning.backtest as bt
    from warning.engine import Settings

    seen = {}
    real = bt.train_on_history

    def spy(panel, settings):
        i = list(zip(panel.keys["category"], panel.keys["region"])).index((MILK, LATE))
        seen[panel.months[-1]] = dict(zip(panel.months, panel.failed[i]))
        return real(panel, settings)

    monkeypatch.setattr(bt, "train_on_history", spy)
    run_backtest(db_session, "2024-07", "2024-08", Settings(train_min_rows=50, train_min_positives=3,
                                                             train_min_label_months=3))
    assert seen["2024-07"]["2024-06"] == 0  # the June failures were reported in August
    assert seen["2024-08"]["2024-06"] == 15
    assert "2024-09" not in seen["2024-08"]
