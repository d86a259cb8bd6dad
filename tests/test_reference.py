"""Reference data: regions, categories with dated floors, idempotent seeding, the in-memory trees."""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from core.reference.models import Category, CategoryFloor, Region
from core.reference.seed import seed_reference
from core.reference.trees import Node, Tree, load_trees

TOP_FLOORS = {"food": 0.93, "drug": 0.95, "farm": 0.96, "industrial": 0.92}
NODE_KEYS = {"code", "parent_code", "level", "name_zh", "name_en"}
DAIRY = {"food.dairy", "food.dairy.liquid_milk", "food.dairy.milk_powder", "food.dairy.other"}


@pytest.fixture
def headers(make_user):
    return make_user("inspector")[1]


def _categories(client, headers, on: str | None = None) -> dict[str, dict]:
    url = "/api/categories" + (f"?on={on}" if on else "")
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_json()
    return {row["code"]: row for row in response.get_json()}


def test_regions_is_a_flat_list_of_the_province_its_cities_and_counties(client, headers):
    response = client.get("/api/regions", headers=headers)

    assert response.status_code == 200
    rows = response.get_json()
    assert isinstance(rows, list) and len(rows) == 102
    assert all(set(row) == NODE_KEYS for row in rows)
    provinces = [r for r in rows if r["level"] == 1]
    cities = [r for r in rows if r["level"] == 2]
    counties = [r for r in rows if r["level"] == 3]
    assert [(p["code"], p["parent_code"]) for p in provinces] == [("330000", None)]
    assert len(cities) == 11 and {c["parent_code"] for c in cities} == {"330000"}
    assert len(counties) == 90
    city_codes = {c["code"] for c in cities}
    assert all(c["parent_code"] in city_codes for c in counties)
    xihu = next(r for r in rows if r["code"] == "330106")
    assert xihu == {"code": "330106", "parent_code": "330100", "level": 3,
                    "name_zh": "西湖区", "name_en": "Xihu District"}


def test_categories_give_top_level_floors_and_children_inherit_them(client, headers):
    rows = _categories(client, headers, on="2025-06-30")

    top = {code: row for code, row in rows.items() if row["parent_code"] is None}
    assert {code: row["floor"] for code, row in top.items()} == TOP_FLOORS
    assert all(row["level"] == 1 for row in top.values())
    assert rows["food.dairy"]["parent_code"] == "food"
    assert rows["food.dairy"]["level"] == 2
    assert rows["food.dairy"]["floor"] == 0.93
    assert rows["food.dairy.liquid_milk"]["floor"] == 0.93
    assert rows["drug.chemical.capsule"]["floor"] == 0.95
    assert all(NODE_KEYS | {"floor"} == set(row) for row in rows.values())


def test_floors_are_dated_and_the_new_floor_applies_from_its_date(client, headers, db_session):
    db_session.add(CategoryFloor(category_code="food", effective_from=date(2026, 1, 1), floor=0.94))
    db_session.commit()

    before = _categories(client, headers, on="2025-06-30")
    eve = _categories(client, headers, on="2025-12-31")
    first_day = _categories(client, headers, on="2026-01-01")
    after = _categories(client, headers, on="2026-02-01")

    for code in ("food", "food.dairy"):
        assert before[code]["floor"] == 0.93
        assert eve[code]["floor"] == 0.93
        assert first_day[code]["floor"] == 0.94
        assert after[code]["floor"] == 0.94
    assert after["drug"]["floor"] == 0.95  # other categories keep their floors


def test_categories_on_an_invalid_date_is_422_naming_on(client, headers):
    response = client.get("/api/categories?on=notadate", headers=headers)

    assert response.status_code == 422
    body = response.get_json()
    assert body["code"] == 422
    assert "on" in body["errors"]


def test_seed_reference_again_adds_nothing(db_session):
    regions = db_session.scalar(select(func.count()).select_from(Region))
    categories = db_session.scalar(select(func.count()).select_from(Category))
    floors = db_session.scalar(select(func.count()).select_from(CategoryFloor))

    counts = seed_reference(db_session)

    assert counts == {"regions": 0, "categories": 0, "floors": 0}
    assert db_session.scalar(select(func.count()).select_from(Region)) == regions == 102
    assert db_session.scalar(select(func.count()).select_from(Category)) == categories
    assert db_session.scalar(select(func.count()).select_from(CategoryFloor)) == floors


def test_seed_reference_cli(runner, db_session):
    result = runner.invoke(args=["seed", "reference"])

    assert result.exit_code == 0, result.output
    assert "0 new regions" in result.output
    assert "0 new categories" in result.output
    assert "0 new floors" in result.output
    assert db_session.scalar(select(func.count()).select_from(Region)) == 102


def test_region_tree_ancestors_and_subtree(db_session):
    regions = load_trees(db_session).regions

    assert regions.ancestors("330106") == ("330106", "330100", "330000")
    assert regions.subtree("330106") == frozenset({"330106"})
    hangzhou = regions.subtree("330100")
    assert "330100" in hangzhou and "330106" in hangzhou and len(hangzhou) == 14
    assert "330212" not in hangzhou  # a Ningbo district
    assert len(regions.subtree("330000")) == 102
    assert regions.roots() == ["330000"]


def test_category_tree_ancestors_and_subtree(db_session):
    categories = load_trees(db_session).categories

    assert categories.ancestors("food.dairy") == ("food.dairy", "food")
    assert categories.ancestors("food.dairy.liquid_milk") == ("food.dairy.liquid_milk", "food.dairy", "food")
    assert categories.subtree("food.dairy") == frozenset(DAIRY)
    assert sorted(categories.roots()) == sorted(TOP_FLOORS)
    assert "food.dairy" in categories and "food.nonsense" not in categories


def test_tree_unit_on_hand_built_nodes():
    tree = Tree({
        "a": Node("a", None, 1, "甲", "A"),
        "a.b": Node("a.b", "a", 2, "乙", "B"),
        "a.b.c": Node("a.b.c", "a.b", 3, "丙", "C"),
        "a.d": Node("a.d", "a", 2, "丁", "D"),
        "e": Node("e", None, 1, "戊", "E"),
    })

    assert tree.ancestors("a.b.c") == ("a.b.c", "a.b", "a")
    assert tree.ancestors("e") == ("e",)
    assert tree.subtree("a") == frozenset({"a", "a.b", "a.b.c", "a.d"})
    assert tree.subtree("a.b") == frozenset({"a.b", "a.b.c"})
    assert tree.subtree("a.d") == frozenset({"a.d"})
    assert tree.kids("a") == ["a.b", "a.d"]
    assert tree.roots() == ["a", "e"]


def test_seeded_floor_notes_are_chinese(db_session):
    # Seed text is data shown as is on /admin/floors (no gettext): it is written in Chinese.
    notes = set(db_session.scalars(select(CategoryFloor.note)))
    assert notes == {"基线目标（浙江省质量强省意见第十一条）"}
