"""Batches API: recording, validation, amendment with If-Match, void, listing."""
from __future__ import annotations

from sqlalchemy import func, select

from inspection.models import Batch, BatchRevision, SeriesMonth
from tests.conftest import OUTSIDE_CODE, VALID_CODE, batch_payload, make_code


def post(client, headers, **overrides):
    return client.post("/api/batches", json=batch_payload(**overrides), headers=headers)


def count(db_session, model=Batch):
    return db_session.scalar(select(func.count()).select_from(model))


def test_create_returns_batch_with_etag_and_location(client, admin):
    _, h = admin
    r = post(client, h, sample_no="A-1")
    assert r.status_code == 201, r.json
    assert r.headers["ETag"] == '"1"'
    assert r.headers["Location"].endswith(f"/api/batches/{r.json['id']}")
    body = r.json
    assert body["sample_no"] == "A-1" and body["version"] == 1 and body["local"] is True
    assert body["enterprise"]["credit_code"] == VALID_CODE
    assert body["items"][0]["item"] == "蛋白质"
    got = client.get(f"/api/batches/{body['id']}", headers=h)
    assert got.status_code == 200 and got.headers["ETag"] == '"1"'


def test_producer_outside_province_is_not_local(client, admin):
    _, h = admin
    r = post(client, h, enterprise_credit_code=OUTSIDE_CODE, enterprise_name="南京某食品有限公司")
    assert r.status_code == 201 and r.json["local"] is False


def _assert_refused(r, field, words, db_session, before):
    assert r.status_code == 422, r.json
    assert field in r.json["errors"], r.json
    assert words in " ".join(r.json["errors"][field])
    assert r.json["code"] == 422 and r.json["message"]
    assert count(db_session) == before
    assert count(db_session, SeriesMonth) == 0 or before > 0


def test_bad_input_is_refused_naming_the_field(client, admin, db_session):
    _, h = admin
    failing = [{"item": "菌落总数", "verdict": "fail"}]
    cases = [
        ({"conclusion": "pass", "items": failing}, "conclusion", "cannot have failing"),
        ({"conclusion": "fail", "items": []}, "conclusion", "needs a failing test item"),
        ({"category": "food.nope"}, "category", "unknown category"),
        ({"region": "110101"}, "region", "unknown region"),
        ({"sampled_on": "2999-01-01", "reported_on": None}, "sampled_on", "in the future"),
        ({"sampled_on": "1999-12-31"}, "sampled_on", "before 2000-01-01"),
        ({"reported_on": "2025-03-01"}, "reported_on", "before the sampling date"),
        ({"enterprise_credit_code": VALID_CODE[:-1] + ("0" if VALID_CODE[-1] != "0" else "1")},
         "enterprise_credit_code", "check digit"),
        ({"enterprise_credit_code": "short"}, "enterprise_credit_code", "18 characters"),
        ({"stage": "warehouse"}, "stage", "Must be one of"),
        ({"sampled_on": "10/03/2025"}, "sampled_on", "Not a valid date"),
        ({"items": [{"item": "x", "verdict": "maybe"}]}, "items.0.verdict", "Must be one of"),
        ({"surprise": 1}, "surprise", "Unknown field"),
        ({"sample_no": "   "}, "sample_no", "sample number is required"),  # blank is no sample number
        ({"sample_no": " SP0"}, "sample_no", "begins or ends with a space"),  # a second "SP0"
        ({"items": [{"item": "  ", "verdict": "pass"}]}, "items.0.item", "needs its name"),
        ({"items": [{"item": "菌落总数", "unit": " ", "verdict": "pass"}]}, "items.0.unit", "only spaces"),
        ({"product": "   "}, "product", "only spaces"),
        ({"enterprise_credit_code": make_code("91330106MA2B3C4D9"), "enterprise_name": "   "}, "enterprise_name",
         "only spaces"),  # would register an enterprise named ""
        ({"conclusion": "fail", "items": [], "fail_reason": "  "}, "conclusion", "needs a failing test item"),
    ]
    for overrides, field, words in cases:
        _assert_refused(post(client, h, **overrides), field, words, db_session, 0)


def test_enterprise_named_without_code_needs_code_except_farm(client, admin):
    _, h = admin
    r = post(client, h, enterprise_credit_code=None, enterprise_name="某乳业公司")
    assert r.status_code == 422 and "enterprise_credit_code" in r.json["errors"]
    # ... nor as a seller without a code (the API's own field for it): the same rule
    seller = post(client, h, enterprise_credit_code=None, enterprise_name=None, producer_name="某乳业经销部")
    assert seller.status_code == 422 and "credit code is required" in seller.json["errors"]["enterprise_credit_code"][0]
    farm = post(client, h, category="farm.vegetable", enterprise_credit_code=None,
                enterprise_name="杭州某农贸市场 12 号摊位", items=[])
    assert farm.status_code == 201, farm.json
    assert farm.json["enterprise"] is None and farm.json["producer_name"].startswith("杭州某农贸市场")
    # Renaming the seller: the name given replaces the stored one, whichever field names it
    for body, expected in (({"enterprise_name": "杭州某农贸市场 15 号摊位"}, "杭州某农贸市场 15 号摊位"),
                           ({"producer_name": "杭州某农贸市场 16 号摊位"}, "杭州某农贸市场 16 号摊位")):
        current = client.get(f"/api/batches/{farm.json['id']}", headers=h)
        renamed = client.patch(f"/api/batches/{farm.json['id']}", headers={**h, "If-Match": current.headers["ETag"]},
                               json={**body, "reason": "摊位号更正"})
        assert renamed.status_code == 200 and renamed.json["producer_name"] == expected, renamed.json


def test_unknown_enterprise_without_name_is_refused(client, admin):
    _, h = admin
    r = post(client, h, enterprise_name=None)
    assert r.status_code == 422 and "enterprise_name" in r.json["errors"]


def test_duplicate_sample_number_is_a_conflict(client, admin, db_session):
    _, h = admin
    assert post(client, h, sample_no="DUP").status_code == 201
    r = post(client, h, sample_no="DUP", product="另一个产品")
    assert r.status_code == 409 and "sample_no" in r.json["errors"]
    assert count(db_session) == 1


def test_amend_requires_if_match_and_refuses_stale_versions(client, admin, db_session):
    _, h = admin
    created = post(client, h).json
    url = f"/api/batches/{created['id']}"
    body = {"reason": "lab corrected the product name", "product": "全脂纯牛奶"}
    assert client.patch(url, json=body, headers=h).status_code == 428
    assert client.patch(url, json=body, headers={**h, "If-Match": '"7"'}).status_code == 412
    assert client.patch(url, json=body, headers={**h, "If-Match": "garbage"}).status_code == 412
    ok = client.patch(url, json=body, headers={**h, "If-Match": '"1"'})
    assert ok.status_code == 200, ok.json
    assert ok.json["product"] == "全脂纯牛奶" and ok.json["version"] == 2 and ok.headers["ETag"] == '"2"'
    again = client.patch(url, json={**body, "product": "lost update"}, headers={**h, "If-Match": '"1"'})
    assert again.status_code == 412
    assert client.get(url, headers=h).json["product"] == "全脂纯牛奶"
    revisions = client.get(f"{url}/revisions", headers=h).json
    assert [(r["version"], r["action"], r["snapshot"]["product"]) for r in revisions] == [(1, "amend", "纯牛奶")]
    assert revisions[0]["reason"] == "lab corrected the product name"


def test_amend_without_reason_or_with_broken_rules_changes_nothing(client, admin, db_session):
    _, h = admin
    created = post(client, h).json
    url = f"/api/batches/{created['id']}"
    hdr = {**h, "If-Match": '"1"'}
    assert client.patch(url, json={"product": "x"}, headers=hdr).status_code == 422
    bad = client.patch(url, json={"reason": "r", "conclusion": "fail"}, headers=hdr)
    assert bad.status_code == 422 and "conclusion" in bad.json["errors"]
    assert client.patch(url, json={"reason": "r", "sample_no": "X"}, headers=hdr).status_code == 422
    blank = client.patch(url, json={"reason": "r", "items": [{"item": " ", "verdict": "pass"}]}, headers=hdr)
    assert blank.status_code == 422 and "items.0.item" in blank.json["errors"]
    assert client.get(url, headers=h).json["version"] == 1
    assert count(db_session, BatchRevision) == 0


def test_an_amendment_that_changes_nothing_is_refused(client, admin, db_session):
    _, h = admin
    created = post(client, h).json
    url = f"/api/batches/{created['id']}"
    same = client.patch(url, json={"reason": "checked", "product": created["product"]},
                        headers={**h, "If-Match": '"1"'})
    assert same.status_code == 422 and same.json["message"] == "nothing changed: the amendment leaves the batch as it is"
    assert client.get(url, headers=h).json["version"] == 1
    assert count(db_session, BatchRevision) == 0
    # A stale version is still 412 first, whatever the body.
    assert client.patch(url, json={"reason": "checked"}, headers={**h, "If-Match": '"5"'}).status_code == 412


def test_amend_moves_the_batch_between_series(client, admin, db_session):
    _, h = admin
    created = post(client, h).json
    r = client.patch(f"/api/batches/{created['id']}", headers={**h, "If-Match": '"1"'},
                     json={"reason": "wrong county", "region": "330212", "conclusion": "fail",
                           "items": [{"item": "菌落总数", "verdict": "fail"}]})
    assert r.status_code == 200, r.json
    rows = {(s.category_code, s.region_code): (s.batches, s.failed)
            for s in db_session.scalars(select(SeriesMonth).where(SeriesMonth.category_code == "*"))}
    assert rows[("*", "330106")] == (0, 0)
    assert rows[("*", "330212")] == (1, 1) and rows[("*", "330200")] == (1, 1)
    assert rows[("*", "330000")] == (1, 1)


def test_void_keeps_the_record_and_history(client, admin, db_session):
    _, h = admin
    created = post(client, h).json
    url = f"/api/batches/{created['id']}"
    assert client.post(f"{url}/void", json={}, headers=h).status_code == 422
    assert client.post(f"{url}/void", json={"reason": "x"}, headers={**h, "If-Match": '"5"'}).status_code == 412
    r = client.post(f"{url}/void", json={"reason": "sample sent to the wrong lab"}, headers=h)
    assert r.status_code == 200 and r.json["voided_at"] and r.json["void_reason"] == "sample sent to the wrong lab"
    assert client.post(f"{url}/void", json={"reason": "again"}, headers=h).status_code == 409
    assert client.patch(url, json={"reason": "r", "product": "p"}, headers={**h, "If-Match": '"2"'}).status_code == 409
    assert client.get(url, headers=h).status_code == 200
    assert client.delete(url, headers=h).status_code == 405
    total = db_session.scalar(select(func.sum(SeriesMonth.batches)).where(SeriesMonth.category_code == "*",
                                                                           SeriesMonth.region_code == "330000"))
    assert total == 0
    listed = client.get("/api/batches", headers=h).json["items"]
    assert listed == []
    assert len(client.get("/api/batches?include_voided=true", headers=h).json["items"]) == 1


def test_missing_batch_is_404_and_ids_are_bounded(client, admin):
    _, h = admin
    assert client.get("/api/batches/999999", headers=h).status_code == 404
    assert client.get("/api/batches/99999999999999999999", headers=h).status_code == 404
    assert client.get("/api/batches/999999", headers=h).json["code"] == 404


def test_list_filters(client, admin):
    _, h = admin
    post(client, h, sample_no="F1", sampled_on="2025-01-05", reported_on=None)
    post(client, h, sample_no="F2", sampled_on="2025-02-05", reported_on=None, region="330212",
         category="food.beverage.drinking_water" if False else "food.dairy.milk_powder")
    post(client, h, sample_no="F3", sampled_on="2025-03-05", reported_on=None, conclusion="fail",
         items=[{"item": "菌落总数", "verdict": "fail"}], stage="distribution")
    post(client, h, sample_no="F4", sampled_on="2025-03-06", reported_on=None, category="farm.vegetable",
         enterprise_credit_code=None, enterprise_name=None, items=[])

    def numbers(query):
        r = client.get(f"/api/batches?{query}", headers=h)
        assert r.status_code == 200, r.json
        return sorted(b["sample_no"] for b in r.json["items"])

    assert numbers("") == ["F1", "F2", "F3", "F4"]
    assert numbers("category=food.dairy") == ["F1", "F2", "F3"]
    assert numbers("category=food.dairy.milk_powder") == ["F2"]
    assert numbers("region=330200") == ["F2"]
    assert numbers("region=330100") == ["F1", "F3", "F4"]
    assert numbers("conclusion=fail") == ["F3"]
    assert numbers("stage=distribution") == ["F3"]
    assert numbers("sampled_from=2025-02-01&sampled_to=2025-03-05") == ["F2", "F3"]
    assert numbers("sort=sample_no&limit=2") == ["F1", "F2"]
    bad = client.get("/api/batches?category=nope", headers=h)
    assert bad.status_code == 422 and "category" in bad.json["errors"]
    assert client.get("/api/batches?limit=0", headers=h).status_code == 422
    assert client.get("/api/batches?include_voided=perhaps", headers=h).status_code == 422
    assert client.get("/api/batches?sort=product", headers=h).status_code == 422


def test_cursor_pages_cover_everything_once(client, admin, db_session):
    _, h = admin
    for i in range(23):
        post(client, h, sample_no=f"P{i:03d}", sampled_on=f"2025-0{1 + i % 5}-1{i % 9}", reported_on=None)
    for sort in ("-sampled_on", "sampled_on", "sample_no", "-id"):
        seen, cursor = [], None
        while True:
            query = f"sort={sort}&limit=5" + (f"&cursor={cursor}" if cursor else "")
            page = client.get(f"/api/batches?{query}", headers=h).json
            seen += [b["sample_no"] for b in page["items"]]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert sorted(seen) == sorted(f"P{i:03d}" for i in range(23)), sort
        assert len(seen) == 23
    r = client.get("/api/batches?cursor=not-a-cursor", headers=h)
    assert r.status_code == 422 and "cursor" in r.json["errors"]
    # A cursor pages only the sort it came from: a sample-number cursor read as a date cursor
    # (or a descending one read ascending) would skip or repeat rows.
    by_number = client.get("/api/batches?sort=sample_no&limit=5", headers=h).json["next_cursor"]
    newest = client.get("/api/batches?limit=5", headers=h).json["next_cursor"]
    for query in (f"cursor={by_number}", f"sort=-sample_no&cursor={by_number}", f"sort=sampled_on&cursor={newest}"):
        r = client.get(f"/api/batches?{query}", headers=h)
        assert r.status_code == 422 and "cursor" in r.json["errors"], query


def test_list_refuses_misspelt_repeated_and_reversed_filters_naming_them(client, admin):
    """A filter the API would drop or misread is refused: a misspelt name would list every batch,
    a repeated one would count only one of its values, a reversed range would list none."""
    _, h = admin
    post(client, h, sample_no="Q1", sampled_on="2025-03-05", reported_on=None)
    cases = [
        ("categroy=food.dairy", "categroy", "Unknown field"),
        ("sampled_form=2025-04-01", "sampled_form", "Unknown field"),
        ("region=330106&region=330212", "region", "given more than once"),
        ("sampled_from=2025-04-01&sampled_to=2025-03-01", "sampled_from", "after 'sampled_to'"),
    ]
    for query, field, words in cases:
        r = client.get(f"/api/batches?{query}", headers=h)
        assert r.status_code == 422, (query, r.json)
        assert r.json["code"] == 422 and r.json["status"] == "Unprocessable Entity" and r.json["message"]
        assert field in r.json["errors"] and words in " ".join(r.json["errors"][field]), (query, r.json)
    same_day = client.get("/api/batches?sampled_from=2025-03-05&sampled_to=2025-03-05", headers=h)
    assert same_day.status_code == 200 and [b["sample_no"] for b in same_day.json["items"]] == ["Q1"]
