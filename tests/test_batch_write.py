"""A batch recorded through the API is written with Core statements, not the ORM: what it stores
(the batch, its items, a newly registered enterprise, the audit record, the aggregate) and what it
answers must be what the ORM reads back, field for field."""
from __future__ import annotations

import itertools
import json

import pytest
from sqlalchemy import select

from core.audit import AuditRecord
from core.reference.trees import load_trees
from inspection.aggregates import spread, spread_one
from inspection.models import Batch, Enterprise, SeriesMonth
from inspection.schemas import BatchSchema
from inspection.services.batches import snapshot
from tests.conftest import OUTSIDE_CODE, batch_payload, make_code

ITEMS = [{"item": f"项目{n}", "value": str(n), "unit": "mg/kg", "limit": "≤9", "standard": "GB 2762",
          "verdict": "fail" if n == 3 else "pass"} for n in range(5)]
CASES = {
    "known enterprise": {},
    "new enterprise": {"enterprise_credit_code": make_code("91330212MA7Q8R9T5"), "enterprise_name": "  宁波新厂  "},
    "enterprise outside the province": {"enterprise_credit_code": OUTSIDE_CODE, "enterprise_name": "南京某厂"},
    "no enterprise, a producer name": {"category": "farm.vegetable", "enterprise_credit_code": None,
                                       "enterprise_name": "菜市场摊位", "producer_name": None, "items": []},
    "failed, items in order, every optional field": {
        "conclusion": "fail", "items": ITEMS, "brand": "示例", "specification": "250mL", "lot": "A1",
        "production_date": "2025-03-01", "sampling_agency": "西湖区局", "laboratory": "省院", "report_no": "R-9"},
}


def _series(db_session) -> dict:
    return {(r.category_code, r.region_code, r.month, r.local): (r.batches, r.failed)
            for r in db_session.scalars(select(SeriesMonth))}


@pytest.mark.parametrize("case", CASES)
def test_a_recorded_batch_is_what_the_orm_reads_back(client, admin, db_session, case):
    user, h = admin
    client.post("/api/batches", json=batch_payload(), headers=h)  # the known enterprise
    db_session.rollback()
    series_before = _series(db_session)

    created = client.post("/api/batches", json=batch_payload(**CASES[case]), headers=h)

    assert created.status_code == 201, created.json
    db_session.rollback()  # a new snapshot: everything below is read back from the database
    batch = db_session.get(Batch, created.json["id"])
    assert created.json == BatchSchema().dump(batch)
    assert created.headers["ETag"] == '"1"' and batch.version == 1 and batch.created_by_id == user.id
    assert [i["item"] for i in created.json["items"]] == [i["item"] for i in batch_payload(**CASES[case])["items"]]
    record = db_session.scalars(select(AuditRecord).where(AuditRecord.entity == "batch",
                                                          AuditRecord.entity_id == str(batch.id))).one()
    assert (record.action, record.user_id, record.address, record.before) == ("create", user.id, "127.0.0.1", None)
    # the snapshot as the ORM makes it, key order included (the JSON text is kept as written)
    assert json.dumps(record.after) == json.dumps(snapshot(batch))
    assert record.at is not None
    code = CASES[case].get("enterprise_credit_code", "known")
    if code not in ("known", None):
        enterprise = db_session.scalars(select(Enterprise).where(Enterprise.credit_code == code)).one()
        assert (enterprise.name, enterprise.region_code, enterprise.address, enterprise.blacklisted,
                enterprise.created_by_id) == (CASES[case]["enterprise_name"].strip(), code[2:8], None, False, user.id)
    # local: registered in the province (by the enterprise's region, not the batch's)
    assert batch.local == (batch.enterprise is not None and batch.enterprise.region_code.startswith("33"))
    assert batch.local == (code not in (None, OUTSIDE_CODE))
    # the aggregate grew by this batch in each (category ancestor x region ancestor) series
    series_after = _series(db_session)
    changed = {k: (v[0] - series_before.get(k, (0, 0))[0], v[1] - series_before.get(k, (0, 0))[1])
               for k, v in series_after.items() if v != series_before.get(k)}
    trees = load_trees(db_session)
    failed = int(batch.conclusion == "fail")
    assert changed == {(c, r, batch.sampled_on.strftime("%Y-%m"), batch.local): (1, failed)
                       for c in (*trees.categories.ancestors(batch.category_code), "*")
                       for r in trees.regions.ancestors(batch.region_code)}


def test_a_refused_write_leaves_nothing(client, admin, db_session):
    _, h = admin
    client.post("/api/batches", json=batch_payload(sample_no="DUP-1"), headers=h)
    new_code = make_code("91330212MA7Q8R9T6")

    again = client.post("/api/batches", json=batch_payload(sample_no="DUP-1", enterprise_credit_code=new_code,
                                                            enterprise_name="重复录入的新厂"), headers=h)
    unnamed = client.post("/api/batches", json=batch_payload(enterprise_credit_code=new_code, enterprise_name=None),
                          headers=h)

    assert again.status_code == 409 and again.json["errors"] == {"sample_no": ["already recorded"]}
    assert unnamed.status_code == 422 and "enterprise_name" in unnamed.json["errors"]
    db_session.rollback()
    assert db_session.scalar(select(Enterprise.id).where(Enterprise.credit_code == new_code)) is None
    assert len(db_session.scalars(select(AuditRecord).where(AuditRecord.entity == "batch")).all()) == 1


def test_one_keys_spread_is_the_general_spread(db_session):
    trees = load_trees(db_session)
    categories = sorted(trees.categories.nodes)[::7]
    regions = sorted(trees.regions.nodes)[::5]
    for category, region, local, (n, f) in itertools.product(categories, regions, (False, True),
                                                             ((1, 0), (1, 1), (-1, -1), (-1, 0), (0, 0))):
        key = (category, region, "2025-03", local)
        assert spread_one(trees, key, n, f) == spread(trees, [key], [n], [f]), key
