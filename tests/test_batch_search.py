"""The batch list's search: a sample number's beginning or any part of the product name, the
same on both databases; on PostgreSQL served by the indexes of migration 0010."""
from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from inspection.services.queries import BatchFilter, filtered
from inspection.services import search
from inspection.services.search import search_conditions, search_grams
from tests.conftest import batch_payload

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
        pytest.skip("the search indexes and search_grams() exist on PostgreSQL only (SQLite scans)")


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
    for condition in search_conditions(db_session, "牛奶"):
        stmt = filtered(db_session, BatchFilter()).where(condition).with_only_columns(text("1"))
        compiled = stmt.compile(dialect=db_session.get_bind().dialect)
        plan = "\n".join(r[0] for r in db_session.connection().exec_driver_sql(f"EXPLAIN {compiled}",
                                                                               compiled.params))
        used.append(plan)
    assert "ix_batches_sample_no_prefix" in used[0], used[0]
    assert "ix_batches_product_grams" in used[1], used[1]


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(product=st.text(st.characters(blacklist_categories=("Cs", "Cc")), min_size=1, max_size=30),
       start=st.integers(0, 29), size=st.integers(1, 8))
def test_the_index_keeps_every_product_that_contains_the_search(db_session, product, start, size):
    """What the query asks of the GIN index never excludes a product containing the words."""
    _postgresql(db_session)
    words = product[start:start + size]
    if not words:
        return
    indexed = set(db_session.scalar(text("SELECT search_grams(:p)"), {"p": product}))
    assert set(search_grams(words)) <= indexed
