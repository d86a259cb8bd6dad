"""Pass-rate statistics: counts, Wilson intervals, floors, breakdowns, periods, filters, exports."""
from __future__ import annotations

import csv
import io
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from core.reference.models import CategoryFloor
from core.reference.trees import forget_trees
from inspection.services.stats import RATE_COLUMNS, wilson
from tests.conftest import OUTSIDE_CODE, VALID_CODE, batch_payload

URL = "/api/stats/pass-rates"
HANGZHOU_COUNTIES = {"330102", "330105", "330106", "330108", "330109", "330110", "330111", "330112",
                     "330113", "330114", "330122", "330127", "330182"}


@pytest.fixture
def headers(admin):
    return admin[1]


def record(client, headers, fail: bool = False, **overrides) -> dict:
    if fail:
        overrides.setdefault("conclusion", "fail")
        overrides.setdefault("fail_reason", "菌落总数超标")
    response = client.post("/api/batches", json=batch_payload(**overrides), headers=headers)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def rates(client, headers, **params) -> list[dict]:
    response = client.get(URL, query_string=params, headers=headers)
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def by(rows: list[dict], key: str) -> dict[str, dict]:
    return {row[key]: row for row in rows}


def test_province_monthly_counts_rate_interval_and_floor(client, headers):
    for _ in range(9):
        record(client, headers, sampled_on="2025-03-10")
    record(client, headers, fail=True, sampled_on="2025-03-15", region="330212")

    rows = rates(client, headers, **{"from": "2025-02", "to": "2025-04"})

    assert [r["period"] for r in rows] == ["2025-02", "2025-03", "2025-04"]
    march = rows[1]
    assert march["category"] == "*" and march["region"] == "330000"
    assert (march["batches"], march["failed"]) == (10, 1)
    assert march["pass_rate"] == pytest.approx(0.9)
    assert march["ci_low"] == pytest.approx(0.5958, abs=1e-4)
    assert march["ci_high"] == pytest.approx(0.9821, abs=1e-4)
    assert march["floor"] == 0.92
    assert march["gap"] == pytest.approx(-0.02)
    assert march["meets_floor"] is False
    empty = rows[0]
    assert (empty["batches"], empty["failed"], empty["floor"]) == (0, 0, 0.92)
    assert empty["pass_rate"] is None and empty["ci_low"] is None and empty["ci_high"] is None
    assert empty["gap"] is None and empty["meets_floor"] is None


def test_all_passing_month_meets_the_floor(client, headers):
    for _ in range(10):
        record(client, headers)

    (row,) = rates(client, headers, **{"from": "2025-03", "to": "2025-03"})

    assert (row["batches"], row["failed"], row["pass_rate"]) == (10, 0, 1.0)
    assert row["gap"] == pytest.approx(0.08)
    assert row["meets_floor"] is True
    assert row["ci_low"] == pytest.approx(0.7225, abs=1e-4)
    assert row["ci_low"] <= row["pass_rate"] <= row["ci_high"] <= 1.0  # the interval contains the rate


def test_breakdown_by_category_lists_the_four_top_level_categories(client, headers):
    record(client, headers)
    record(client, headers, fail=True)
    record(client, headers, category="farm.fresh_egg", enterprise_credit_code=None, enterprise_name=None,
           producer_name="农贸市场摊位")

    rows = by(rates(client, headers, breakdown="category", **{"from": "2025-03", "to": "2025-03"}), "category")

    assert set(rows) == {"food", "drug", "farm", "industrial"}
    assert (rows["food"]["batches"], rows["food"]["failed"]) == (2, 1)
    assert rows["food"]["floor"] == 0.93
    assert (rows["farm"]["batches"], rows["farm"]["failed"]) == (1, 0)
    assert rows["drug"]["batches"] == rows["industrial"]["batches"] == 0 and rows["drug"]["pass_rate"] is None


def test_breakdown_by_region_lists_the_counties_of_a_city(client, headers):
    record(client, headers, region="330106")
    record(client, headers, region="330106", fail=True)
    record(client, headers, region="330110")
    record(client, headers, region="330212")  # Ningbo: outside Hangzhou

    rows = by(rates(client, headers, breakdown="region", region="330100",
                    **{"from": "2025-03", "to": "2025-03"}), "region")

    assert set(rows) == HANGZHOU_COUNTIES
    assert (rows["330106"]["batches"], rows["330106"]["failed"]) == (2, 1)
    assert rows["330110"]["batches"] == 1
    assert sum(r["batches"] for r in rows.values()) == 3


def test_breakdown_by_both(client, headers):
    record(client, headers, region="330106", category="food.dairy.milk_powder")
    record(client, headers, region="330110", category="food.edible_oil", fail=True)

    rows = rates(client, headers, breakdown="both", category="food", region="330100",
                 **{"from": "2025-03", "to": "2025-03"})

    cells = {(r["category"], r["region"]): r for r in rows}
    assert {c for c, _ in cells} >= {"food.dairy", "food.edible_oil"}
    assert {r for _, r in cells} == HANGZHOU_COUNTIES
    assert cells[("food.dairy", "330106")]["batches"] == 1
    assert (cells[("food.edible_oil", "330110")]["batches"], cells[("food.edible_oil", "330110")]["failed"]) == (1, 1)
    assert cells[("food.dairy", "330110")]["batches"] == 0
    assert sum(r["batches"] for r in rows) == 2


def test_quarter_periods_are_labelled_and_summed(client, headers):
    record(client, headers, sampled_on="2025-01-05")
    record(client, headers, sampled_on="2025-03-31", fail=True, reported_on="2025-04-02")
    record(client, headers, sampled_on="2025-04-01", reported_on="2025-04-02")

    rows = by(rates(client, headers, period="quarter", **{"from": "2025-01", "to": "2025-09"}), "period")

    assert list(rows) == ["2025-Q1", "2025-Q2", "2025-Q3"]
    assert (rows["2025-Q1"]["batches"], rows["2025-Q1"]["failed"]) == (2, 1)
    assert rows["2025-Q2"]["batches"] == 1
    assert rows["2025-Q3"]["batches"] == 0


def test_year_periods_are_labelled_and_summed(client, headers):
    record(client, headers, sampled_on="2024-11-20", reported_on="2024-11-30")
    record(client, headers, sampled_on="2024-12-01", reported_on="2024-12-10", fail=True)
    record(client, headers, sampled_on="2025-02-01", reported_on="2025-02-10")

    rows = by(rates(client, headers, period="year", **{"from": "2024-11", "to": "2025-02"}), "period")

    assert list(rows) == ["2024", "2025"]
    assert (rows["2024"]["batches"], rows["2024"]["failed"]) == (2, 1)
    assert rows["2025"]["batches"] == 1


def test_from_and_to_are_inclusive(client, headers):
    record(client, headers, sampled_on="2025-02-28")
    record(client, headers, sampled_on="2025-03-01")
    record(client, headers, sampled_on="2025-05-31", reported_on="2025-06-01")
    record(client, headers, sampled_on="2025-06-01", reported_on="2025-06-02")

    rows = rates(client, headers, **{"from": "2025-03", "to": "2025-05"})

    assert [r["period"] for r in rows] == ["2025-03", "2025-04", "2025-05"]
    assert sum(r["batches"] for r in rows) == 2


@pytest.mark.parametrize("params, field", [
    ({"from": "2025-06", "to": "2025-03"}, "from"),
    ({"from": "2025-13", "to": "2026-01"}, "from"),
    ({"from": "2025-01", "to": "2025-1"}, "to"),
    ({"category": "food.nonsense"}, "category"),
    ({"region": "999999"}, "region"),
    ({"period": "week"}, "period"),
    ({"to": "٢٠٢٥-03"}, "to"),  # Arabic-Indic digits: read as a later month than every ASCII one
    ({"from": "２０２４-01", "to": "2024-03"}, "from"),  # fullwidth digits
    ({"catgory": "food.dairy"}, "catgory"),  # misspelt: the province's figures would be answered
    ({"region": ["330106", "330212"]}, "region"),  # repeated: only one would count
    ({"from": ["2025-01", "2025-02"], "to": "2025-03"}, "from"),
])
def test_invalid_query_is_422_naming_the_field(client, headers, params, field):
    response = client.get(URL, query_string=params, headers=headers)

    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == 422
    assert field in body["errors"]


def test_origin_local_counts_only_producers_registered_in_the_province(client, headers):
    record(client, headers, enterprise_credit_code=VALID_CODE)
    record(client, headers, enterprise_credit_code=OUTSIDE_CODE, enterprise_name="南京某乳业有限公司", fail=True)
    record(client, headers, category="farm.fresh_egg", enterprise_credit_code=None, enterprise_name=None,
           producer_name="农贸市场摊位")
    (local,) = rates(client, headers, origin="local", **{"from": "2025-03", "to": "2025-03"})
    (everything,) = rates(client, headers, origin="all", **{"from": "2025-03", "to": "2025-03"})

    assert (local["batches"], local["failed"]) == (1, 0)
    assert (everything["batches"], everything["failed"]) == (3, 1)


def test_voided_batch_no_longer_counts(client, headers):
    record(client, headers)
    doomed = record(client, headers, fail=True)

    response = client.post(f"/api/batches/{doomed['id']}/void", json={"reason": "重复录入"}, headers=headers)

    assert response.status_code == 200, response.get_json()
    (row,) = rates(client, headers, **{"from": "2025-03", "to": "2025-03"})
    assert (row["batches"], row["failed"]) == (1, 0)


def test_amended_batch_moves_its_count(client, headers):
    batch = record(client, headers, sampled_on="2025-03-10")
    window = {"from": "2025-02", "to": "2025-03"}

    response = client.patch(f"/api/batches/{batch['id']}", headers={**headers, "If-Match": f'"{batch["version"]}"'},
                            json={"reason": "复检结论更正", "conclusion": "fail", "fail_reason": "铅超标",
                                  "sampled_on": "2025-02-20", "reported_on": "2025-03-20"})

    assert response.status_code == 200, response.get_json()
    feb, mar = rates(client, headers, **window)
    assert (feb["batches"], feb["failed"]) == (1, 1)
    assert (mar["batches"], mar["failed"]) == (0, 0)
    (dairy,) = rates(client, headers, category="food.dairy", **{"from": "2025-02", "to": "2025-02"})
    assert (dairy["batches"], dairy["failed"]) == (1, 1)


def test_dated_floor_applies_to_later_periods_only(client, headers, db_session):
    db_session.add(CategoryFloor(category_code="food", effective_from=date(2026, 1, 1), floor=0.94))
    db_session.commit()
    forget_trees(db_session)
    record(client, headers, sampled_on="2025-12-10", reported_on="2025-12-20")
    record(client, headers, sampled_on="2026-01-10", reported_on="2026-01-20")

    months = by(rates(client, headers, category="food", **{"from": "2025-12", "to": "2026-01"}), "period")
    years = by(rates(client, headers, category="food.dairy", period="year",
                     **{"from": "2025-01", "to": "2026-06"}), "period")
    overall = by(rates(client, headers, **{"from": "2025-12", "to": "2026-01"}), "period")

    assert months["2025-12"]["floor"] == 0.93 and months["2026-01"]["floor"] == 0.94
    assert months["2026-01"]["batches"] == 1
    assert years["2025"]["floor"] == 0.93 and years["2026"]["floor"] == 0.94
    assert overall["2026-01"]["floor"] == 0.92  # all products keep their own floor


def test_csv_export(client, headers):
    record(client, headers)
    record(client, headers, fail=True)

    response = client.get(URL, query_string={"from": "2025-03", "to": "2025-03", "format": "csv"}, headers=headers)

    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(b"\xef\xbb\xbf")
    lines = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert lines[0] == ["category", "region", "period", "batches", "failed", "pass_rate", "ci_low",
                        "ci_high", "floor", "gap", "meets_floor"]
    assert lines[1][:5] == ["*", "330000", "2025-03", "2", "1"]
    assert float(lines[1][5]) == pytest.approx(0.5)
    assert "attachment" in response.headers["Content-Disposition"]


def test_xlsx_export(client, headers):
    record(client, headers)

    response = client.get(URL, headers=headers, query_string={
        "from": "2025-03", "to": "2025-04", "format": "xlsx", "breakdown": "category"})

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(RATE_COLUMNS)
    assert len(rows) == 1 + 4 * 2
    food_march = next(r for r in rows[1:] if r[0] == "food" and r[2] == "2025-03")
    assert food_march[3] == 1 and food_march[4] == 0


def test_wilson_without_data_is_none():
    assert wilson(0, 0) == (None, None)


@pytest.mark.parametrize("n", [1, 3, 10, 1000])
def test_wilson_extremes_stay_within_unit_interval(n):
    low0, high0 = wilson(0, n)
    lown, highn = wilson(n, n)

    assert 0.0 <= low0 < high0 <= 1.0
    assert 0.0 <= lown < highn <= 1.0


@pytest.mark.parametrize("n", [1, 3, 10, 1000])
def test_wilson_extremes_contain_the_observed_rate(n):
    assert wilson(0, n)[0] == 0.0  # zero successes: the interval starts at 0
    assert wilson(n, n)[1] == 1.0  # all successes: the interval ends at 1


@given(st.integers(min_value=1, max_value=100_000).flatmap(
    lambda n: st.tuples(st.integers(min_value=0, max_value=n), st.just(n))))
def test_wilson_interval_contains_the_observed_rate(case):
    successes, n = case
    low, high = wilson(successes, n)

    assert 0.0 <= low <= successes / n <= high <= 1.0


def test_earliest_months_do_not_break_the_default_range(client, admin):
    _, h = admin
    r = client.get("/api/stats/pass-rates?to=0001-03", headers=h)
    assert r.status_code == 200 and [row["period"] for row in r.json] == ["0001-01", "0001-02", "0001-03"]
    bad = client.get("/api/stats/pass-rates?to=0000-05", headers=h)
    assert bad.status_code == 422 and "to" in bad.json["errors"]
