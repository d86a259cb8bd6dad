"""The batch list's search: a sample number's beginning or any part of the product name, the
same on both databases; on PostgreSQL served by the indexes of migrations 0010 to 0012."""
from __future__ import annotations

import importlib
from datetime import date

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from inspection.services import search
from inspection.services.queries import BatchFilter, filtered, list_batches
from inspection.services.search import (FAILED_KEY, category_group, category_keys, grouped_gram, month_keys,
                                        region_keys, search_conditions, search_grams)
from tests.conftest import batch_payload

migration_0012 = importlib.import_module("migrations.versions.0012_search_keys_by_category_group")

PRODUCTS = {"ZJ-2025-001": "纯牛奶", "ZJ-2025-002": "全脂牛奶粉", "HZ-001": "酸奶", "HZ-002": "牛肉干",
            "HZ-003": "大米", "HZ-004": "milk 50%_off", "NB-001": "𠮷野家牛丼", "NB-002": None}


@pytest.fixture
def batches(client, admin):
    _, h = admin
    for sample_no, product in PRODUCTS.items():
        response = client.post("/api/batches", json=batch_payload(sample_no=sample_no, product=product), headers=h)
        assert response.status_code == 201, response.json
    return h


def found(client, headers, words: str, **filters) -> set[str]:
    response = client.get("/api/batches", query_string={"search": words, "limit": 500, **filters}, headers=headers)
    assert response.status_code == 200, response.json
    return {b["sample_no"] for b in response.json["items"]}


@pytest.mark.parametrize("words, expected", [
    ("牛奶", {"ZJ-2025-001", "ZJ-2025-002"}),                 # a two-character word anywhere in the name
    ("奶", {"ZJ-2025-001", "ZJ-2025-002", "HZ-001"}),         # one character
    ("牛", {"ZJ-2025-001", "ZJ-2025-002", "HZ-002", "NB-001"}),
    ("牛奶粉", {"ZJ-2025-002"}),
    ("奶牛", set()),                                           # both characters, not in that order
    ("纯牛奶粉", set()),                                       # every pair occurs, the whole does not
    ("𠮷野", {"NB-001"}),                                      # beyond the Basic Multilingual Plane
    ("ZJ-2025", {"ZJ-2025-001", "ZJ-2025-002"}),              # a sample number's beginning
    ("2025", set()),                                           # ... not its middle
    ("50%_", {"HZ-004"}),                                     # LIKE's wildcards are plain characters
    ("5_%", set()),
    ("  大米 ", {"HZ-003"}),                                   # surrounding spaces ignored
])
def test_search_matches_sample_number_beginnings_and_product_substrings(client, batches, words, expected):
    assert found(client, batches, words) == expected


def test_search_combines_with_filters_scope_and_voids(client, batches, make_user):
    h = batches
    assert found(client, h, "牛奶", region="330106") == {"ZJ-2025-001", "ZJ-2025-002"}
    assert found(client, h, "牛奶", region="330212") == set()
    assert found(client, make_user("inspector", region="330200")[1], "牛奶") == set()  # out of scope
    batch = client.get("/api/batches", query_string={"search": "ZJ-2025-001"}, headers=h).json["items"][0]
    assert client.post(f"/api/batches/{batch['id']}/void", json={"reason": "wrong lab"}, headers=h).status_code == 200
    assert found(client, h, "牛奶") == {"ZJ-2025-002"}
    assert found(client, h, "牛奶", include_voided="true") == {"ZJ-2025-001", "ZJ-2025-002"}


def test_search_follows_an_amended_product(client, batches):
    h = batches
    batch = client.get("/api/batches", query_string={"search": "HZ-003"}, headers=h).json["items"][0]
    amended = client.patch(f"/api/batches/{batch['id']}", json={"reason": "typo", "product": "东北大米粉"},
                           headers={**h, "If-Match": f'"{batch["version"]}"'})
    assert amended.status_code == 200, amended.json
    assert found(client, h, "米粉") == {"HZ-003"} and found(client, h, "大米") == {"HZ-003"}


def test_an_overlong_search_is_refused_by_the_api_and_matches_nothing_in_the_service(client, batches, db_session):
    response = client.get("/api/batches", query_string={"search": "牛" * 201}, headers=batches)
    assert response.status_code == 422 and "search" in response.json["errors"], response.json
    assert db_session.scalars(filtered(db_session, BatchFilter(search="牛" * 201))).all() == []
    assert len(db_session.scalars(filtered(db_session, BatchFilter(search="牛"))).all()) == 4


def _postgresql(db_session) -> None:
    if db_session.get_bind().dialect.name != "postgresql":
        pytest.skip("the search indexes and batch_search_keys() exist on PostgreSQL only (SQLite scans)")


@pytest.mark.parametrize("walk_rows", [3, 10, 20_000])
def test_search_pages_walk_the_union_of_both_alternatives_once_in_order(client, admin, monkeypatch, walk_rows):
    """Whether the product matches come from reading the list in order (a page found within
    WALK_ROWS rows, or the list ends there) or from the index, the pages are the same."""
    monkeypatch.setattr(search, "WALK_ROWS", walk_rows)
    _, h = admin
    made = []
    for i in range(14):  # sample numbers beginning with MIX, products containing it, or both
        sample_no, product = [(f"MIX-{i}", "大米"), (f"Q-{i}", f"特MIX{i}"), (f"MIX-B{i}", "MIX")][i % 3]
        body = batch_payload(sample_no=sample_no, product=product, sampled_on=f"2025-03-{1 + i % 5:02d}")
        assert client.post("/api/batches", json=body, headers=h).status_code == 201
        made.append(sample_no)
        other = batch_payload(sample_no=f"OTHER-{i}", product="牛奶", sampled_on=f"2025-03-{1 + i % 7:02d}")
        assert client.post("/api/batches", json=other, headers=h).status_code == 201
    pages, cursor = [], None
    while True:
        query = {"search": "MIX", "limit": 4, **({"cursor": cursor} if cursor else {})}
        body = client.get("/api/batches", query_string=query, headers=h).json
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if not cursor:
            break
    listed = [(b["sampled_on"], b["id"], b["sample_no"]) for page in pages for b in page]
    assert len(pages) == 4 and sorted(b[2] for b in listed) == sorted(made)
    assert listed == sorted(listed, reverse=True)  # newest first, then by id, across pages


def test_each_alternative_of_a_search_is_served_by_its_index(batches, db_session):
    _postgresql(db_session)
    db_session.execute(text("SET LOCAL enable_seqscan = off"))  # a few rows: a scan would be cheaper
    used = []
    among = [category_keys(["food.dairy.liquid_milk"]), region_keys(["330106", "330102"])]
    for condition in search_conditions(db_session, "牛奶", among, ["food.dairy"]):
        stmt = filtered(db_session, BatchFilter()).where(condition).with_only_columns(text("1"))
        compiled = stmt.compile(dialect=db_session.get_bind().dialect)
        plan = "\n".join(r[0] for r in db_session.connection().exec_driver_sql(f"EXPLAIN {compiled}",
                                                                               compiled.params))
        used.append(plan)
    assert "ix_batches_sample_no_prefix" in used[0], used[0]
    # The word's grams in the category's group and the filters' keys in one condition of the one index.
    index_cond = next(line for line in used[1].splitlines() if "Index Cond" in line)
    assert "ix_batches_batch_search_keys" in used[1] and "{c:food.dairy.liquid_milk}" in index_cond \
        and "{r:330102,r:330106}" in index_cond and "{g:food.dairy:牛奶}" in index_cond, used[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(product=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
       start=st.integers(0, 29), size=st.integers(1, 8),
       category=st.sampled_from(["food.aquatic.fish", "food.aquatic", "food", "drug.chemical.tablet"]))
def test_the_index_keeps_every_product_that_contains_the_search(db_session, product, start, size, category):
    """What the query asks of the GIN index never excludes a product containing the words, in
    the words' category group or not."""
    _postgresql(db_session)
    words = product[start:start + size]
    if not words:
        return
    indexed = set(db_session.scalar(text("SELECT batch_search_keys(:p, :c, '330106', DATE '2025-03-10', 'pass')"),
                                    {"p": product, "c": category}))
    grams = search_grams(words)
    assert set(grams) | {grouped_gram(category_group(category), gram) for gram in grams} <= indexed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(product=st.none() | st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=12),
       category=st.sampled_from(["food.aquatic.fish", "food.aquatic", "food", "farm.vegetable.leafy"]),
       day=st.dates(date(2000, 1, 1), date(2030, 12, 31)), conclusion=st.sampled_from(["pass", "fail"]))
def test_the_index_keys_are_exactly_the_grams_and_the_filters_keys(db_session, product, category, day, conclusion):
    """batch_search_keys() in SQL holds nothing but what the Python side asks for: the product's
    characters and pairs, each alone and in its category group, and the filters' keys."""
    _postgresql(db_session)
    got = db_session.scalar(text("SELECT batch_search_keys(:p, :c, '330106', :d, :k)"),
                            {"p": product, "c": category, "d": day, "k": conclusion})
    grams = {product[i:i + n] for n in (1, 2) for i in range(len(product or "") - n + 1)}
    expected = grams | {grouped_gram(category_group(category), gram) for gram in grams} \
        | set(category_keys([category])) | set(region_keys(["330106"])) | set(month_keys(day, day)) \
        | ({FAILED_KEY} if conclusion == "fail" else set())
    assert len(got) == len(set(got)) and set(got) == expected


# Category codes of three, one and two parts: below their search-index group, a group's root, a group.
MIXED_CATEGORIES = ("food.dairy.liquid_milk", "food.dairy.milk_powder", "drug", "farm.vegetable")
MIXED_REGIONS = ("330106", "330102", "330212")
MIXED_PRODUCTS = ("纯牛奶", "全脂奶粉", "东北大米", "青菜", "牛奶大米饼", None, "菜籽油")


@pytest.fixture
def mixed(client, admin) -> list[dict]:
    """Batches across categories, regions, months and conclusions, products from a few words
    (cycles of coprime lengths, so that each filter meets each product)."""
    _, h = admin
    made = []
    for i in range(84):
        fails = i % 13 in (0, 4, 9)
        body = batch_payload(sample_no=f"MX{i:03d}", category=MIXED_CATEGORIES[i % 4], region=MIXED_REGIONS[i % 3],
                             sampled_on=f"2025-{1 + i % 5:02d}-{1 + i % 9:02d}", reported_on=None,
                             product=MIXED_PRODUCTS[i % 7], conclusion="fail" if fails else "pass",
                             items=[{"item": "菌落总数", "verdict": "fail" if fails else "pass"}])
        response = client.post("/api/batches", json=body, headers=h)
        assert response.status_code == 201, response.json
        made.append(response.json)
    return made


def _expected(made: list[dict], words: str, category, region, scope, first, last, conclusion, sort) -> list[str]:
    def keep(b: dict) -> bool:
        return ((category is None or b["category"] == category or b["category"].startswith(category + "."))
                and all(r is None or b["region"].startswith(r.rstrip("0")) for r in (region, scope))
                and (first is None or b["sampled_on"] >= first) and (last is None or b["sampled_on"] <= last)
                and (conclusion is None or b["conclusion"] == conclusion)
                and (b["sample_no"].startswith(words) or words in (b["product"] or "")))
    key = sort.lstrip("-")
    return [b["sample_no"] for b in sorted(filter(keep, made), key=lambda b: (b[key], b["id"]),
                                           reverse=sort.startswith("-"))]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(words=st.sampled_from(["奶", "牛奶", "大米", "米饼", "菜", "粉", "MX0", "MX01", "无"]),
       category=st.sampled_from([None, "food", "food.dairy", "food.dairy.liquid_milk", "food.grain.rice",
                                 "farm.vegetable", "drug"]),
       region=st.sampled_from([None, "330100", "330106", "330200"]), scope=st.sampled_from([None, "330100"]),
       first=st.sampled_from([None, "2025-02-01", "2025-03-05"]),
       last=st.sampled_from([None, "2025-03-31", "2025-05-04"]),
       conclusion=st.sampled_from([None, "pass", "fail"]),
       sort=st.sampled_from(["-sampled_on", "sampled_on", "sample_no", "-id"]), limit=st.integers(1, 7),
       walk_rows=st.sampled_from([2, 20_000]))
# Always tried: each filter the index keys stand for, with the scope, found by the index alone.
@example(words="奶", category="food.dairy", region="330200", scope="330100", first="2025-02-01", last="2025-03-31",
         conclusion="fail", sort="-sampled_on", limit=2, walk_rows=2)
@example(words="奶", category=None, region="330200", scope="330100", first=None, last="2025-05-04",
         conclusion="pass", sort="sampled_on", limit=3, walk_rows=2)
def test_a_search_with_filters_pages_through_exactly_the_matching_batches(
        db_session, mixed, monkeypatch, words, category, region, scope, first, last, conclusion, sort, limit,
        walk_rows):
    """Whatever the filters, scope, dates, cursor and order, the search index's keys (PostgreSQL)
    and the two ways of finding product matches never drop or add a batch."""
    monkeypatch.setattr(search, "WALK_ROWS", walk_rows)
    f = BatchFilter(search=words, category=category, region=region, conclusion=conclusion,
                    sampled_from=first and date.fromisoformat(first), sampled_to=last and date.fromisoformat(last))
    listed, cursor = [], None
    while True:
        rows, cursor = list_batches(db_session, f, sort, limit, cursor, scope_region=scope)
        listed += [b.sample_no for b in rows]
        if cursor is None:
            break
    assert listed == _expected(mixed, words, category, region, scope, first, last, conclusion, sort)


def test_the_index_keys_of_a_batch_are_those_the_filters_ask_for(db_session, mixed):
    """batch_search_keys() in SQL gives each batch the keys the Python side builds for its filters."""
    _postgresql(db_session)
    for b in mixed[:8]:
        keys = set(db_session.scalar(text("SELECT batch_search_keys(product, category_code, region_code,"
                                          " sampled_on, conclusion) FROM batches WHERE id = :id"), {"id": b["id"]}))
        day = date.fromisoformat(b["sampled_on"])
        assert set(category_keys([b["category"]])) | set(region_keys([b["region"]])) | set(month_keys(day, day)) <= keys
        assert (FAILED_KEY in keys) == (b["conclusion"] == "fail")
        grams = search_grams(b["product"] or "x")
        group = category_group(b["category"])
        assert set(grams) | {grouped_gram(group, gram) for gram in grams} <= keys or b["product"] is None


def _search_indexes(session) -> dict[str, bool]:
    """The search indexes of the batches table visible on the search path, each with its validity."""
    return dict(session.execute(text(
        "SELECT c.relname, i.indisvalid FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid "
        "WHERE c.relname IN ('ix_batches_search_keys', 'ix_batches_batch_search_keys') "
        "AND pg_table_is_visible(c.oid)")).all())


def test_migration_0012_replaces_the_index_even_after_an_interrupted_build_and_downgrades(
        db_session, database_url, tmp_path):
    """0012 builds its index beside 0011's and drops 0011's; rerun after a build that was cut off
    (its index left INVALID, which `IF NOT EXISTS` would take for done), it builds it again
    instead of keeping the broken one. The downgrade restores 0011's."""
    _postgresql(db_session)
    from flask_migrate import downgrade, upgrade

    from factory import create_app
    from tests.migration_schema import migration_database

    with migration_database(database_url, tmp_path, "migration_0012") as url:
        app = create_app("testing", {"DATABASE_URL": url})
        with app.app_context():
            session = app.extensions["sqlalchemy"].session
            upgrade(revision="0011")
            # What a killed `flask db upgrade` leaves: the function, an index marked invalid.
            session.execute(text(migration_0012.FUNCTION))
            session.execute(text("CREATE INDEX ix_batches_batch_search_keys ON batches "
                                 "USING gin (batch_search_keys(product, category_code, region_code, sampled_on, "
                                 "conclusion))"))
            session.execute(text("UPDATE pg_index SET indisvalid = false "
                                 "WHERE indexrelid = 'ix_batches_batch_search_keys'::regclass"))
            session.commit()
            assert _search_indexes(session) == {"ix_batches_search_keys": True, "ix_batches_batch_search_keys": False}

            upgrade(revision="0012")
            assert _search_indexes(session) == {"ix_batches_batch_search_keys": True}
            session.commit()

            downgrade(revision="0011")
            assert _search_indexes(session) == {"ix_batches_search_keys": True}
            assert session.scalar(text("SELECT count(*) FROM pg_proc WHERE proname = 'batch_search_keys' "
                                       "AND pg_function_is_visible(oid)")) == 0
            session.commit()
            session.remove()
            app.extensions["sqlalchemy"].engine.dispose()
