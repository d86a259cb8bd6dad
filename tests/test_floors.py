"""Administrators set dated floors; statistics before the date keep the old floor."""
from __future__ import annotations

from tests.conftest import batch_payload


def test_admin_sets_a_dated_floor_that_applies_from_its_date(client, admin, make_user):
    user, h = admin
    r = client.post("/api/floors", json={"category": "food", "floor": 0.945, "effective_from": "2026-01-01",
                                         "note": "raised"}, headers=h)
    assert r.status_code == 201, r.json
    assert r.json["created_by_id"] == user.id
    cats = {c["code"]: c["floor"] for c in client.get("/api/categories?on=2026-02-01", headers=h).json}
    assert cats["food"] == 0.945 and cats["food.dairy"] == 0.945 and cats["drug"] == 0.95
    old = {c["code"]: c["floor"] for c in client.get("/api/categories?on=2025-12-31", headers=h).json}
    assert old["food"] == 0.93
    client.post("/api/batches", json=batch_payload(sampled_on="2025-12-10", reported_on=None), headers=h)
    rows = client.get("/api/stats/pass-rates?category=food&from=2025-12&to=2026-01", headers=h).json
    assert [(r["period"], r["floor"]) for r in rows] == [("2025-12", 0.93), ("2026-01", 0.945)]
    history = client.get("/api/floors?category=food", headers=h).json
    assert [(f["effective_from"], f["floor"]) for f in history] == [("2000-01-01", 0.93), ("2026-01-01", 0.945)]
    unknown = client.get("/api/floors?category=food.nope", headers=h)  # not "no floors there"
    assert unknown.status_code == 422 and "category" in unknown.json["errors"]
    assert [f["floor"] for f in client.get("/api/floors?category=*", headers=h).json] == [0.92]
    audit = client.get("/api/audit?entity=floor", headers=h).json
    assert audit[0]["after"]["floor"] == 0.945 and audit[0]["user_id"] == user.id


def test_bad_floors_are_refused(client, admin, make_user):
    _, h = admin
    base = {"category": "food", "floor": 0.94, "effective_from": "2027-01-01"}
    assert client.post("/api/floors", json=base, headers=h).status_code == 201
    dup = client.post("/api/floors", json=base, headers=h)
    assert dup.status_code == 409 and "effective_from" in dup.json["errors"]
    for change, field in (({"category": "food.nope"}, "category"), ({"floor": 1.5}, "floor"),
                          ({"floor": 0}, "floor"), ({"effective_from": "soon"}, "effective_from")):
        r = client.post("/api/floors", json={**base, **change, "effective_from": change.get("effective_from", "2028-01-01")},
                        headers=h)
        assert r.status_code == 422 and field in r.json["errors"], (change, r.json)
    overall = client.post("/api/floors", json={**base, "category": "*", "floor": 0.93}, headers=h)
    assert overall.status_code == 201
    _, supervisor = make_user("supervisor")
    assert client.post("/api/floors", json={**base, "effective_from": "2029-01-01"}, headers=supervisor).status_code == 403
    assert client.get("/api/floors", headers=supervisor).status_code == 200
