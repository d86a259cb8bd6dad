"""The audit trail: every write leaves who, when, where and what changed; nothing rewrites it."""
from __future__ import annotations

import csv
import io
import os

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError

from core.audit import AuditRecord
from tests.conftest import batch_payload


def trail(client, headers, **filters):
    query = "&".join(f"{k}={v}" for k, v in filters.items())
    r = client.get(f"/api/audit?{query}", headers=headers)
    assert r.status_code == 200, r.json
    return list(reversed(r.json))


def test_batch_writes_are_audited_with_before_and_after(client, admin):
    user, h = admin
    created = client.post("/api/batches", json=batch_payload(sample_no="AU-1"), headers=h).json
    bid = created["id"]
    client.patch(f"/api/batches/{bid}", json={"reason": "typo", "product": "酸奶"}, headers={**h, "If-Match": '"1"'})
    client.post(f"/api/batches/{bid}/void", json={"reason": "duplicate sample"}, headers=h)
    records = trail(client, h, entity="batch", entity_id=bid)
    assert [r["action"] for r in records] == ["create", "amend", "void"]
    assert all(r["user_id"] == user.id and r["address"] == "127.0.0.1" and r["at"] for r in records)
    assert records[0]["before"] is None and records[0]["after"]["sample_no"] == "AU-1"
    assert records[1]["before"]["product"] == "纯牛奶" and records[1]["after"]["product"] == "酸奶"
    assert records[1]["after"]["reason"] == "typo"
    assert records[2]["after"] == {"voided": True, "reason": "duplicate sample"}


def test_imports_and_enterprises_are_audited(client, admin):
    user, h = admin
    content = b"sample_no,sampled_on,category,region,result\nAU-2,2025-04-01,food.dairy,330106,pass\n"
    report = client.post("/api/batches/import", headers=h, data={"file": (io.BytesIO(content), "a.csv")},
                         content_type="multipart/form-data").json
    rec = trail(client, h, entity="import_run")
    assert rec[-1]["entity_id"] == str(report["import_id"]) and rec[-1]["after"]["accepted"] == 1
    from tests.conftest import make_code
    code = make_code("91330212MA2AUD1T0")
    client.post("/api/enterprises", json={"credit_code": code, "name": "宁波审计测试有限公司"}, headers=h)
    rec = trail(client, h, entity="enterprise")
    assert rec[-1]["action"] == "create" and rec[-1]["after"]["credit_code"] == code


def test_filters_and_csv_export(client, admin, make_user):
    user, h = admin
    other, oh = make_user("inspector", region="330106")
    client.post("/api/batches", json=batch_payload(sample_no="AU-3"), headers=h)
    client.post("/api/batches", json=batch_payload(sample_no="AU-4"), headers=oh)
    mine = trail(client, h, entity="batch", user_id=other.id)
    assert [r["after"]["sample_no"] for r in mine] == ["AU-4"]
    assert trail(client, h, entity="batch", since="2999-01-01T00:00:00Z") == []
    reversed_range = client.get("/api/audit?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z", headers=h)
    assert reversed_range.status_code == 422 and "since" in reversed_range.json["errors"]
    assert len(trail(client, h, entity="batch", limit=1)) == 1
    r = client.get("/api/audit?format=csv&entity=batch", headers=h)
    assert r.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(r.data.decode("utf-8-sig"))))
    assert {row["action"] for row in rows} == {"create"} and len(rows) == 2
    assert '"sample_no": "AU-3"' in "".join(row["after"] for row in rows)
    assert client.get("/api/audit", headers=oh).status_code == 403


@pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"),
                    reason="the trigger is PostgreSQL's; scripts/test.sh runs this suite on PostgreSQL too")
def test_audit_log_refuses_update_and_delete_on_postgresql(client, admin, db_session):
    _, h = admin
    client.post("/api/batches", json=batch_payload(sample_no="AU-5"), headers=h)
    for statement in ("UPDATE audit_log SET action = 'forged'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            db_session.execute(text(statement))
        db_session.rollback()
    assert db_session.execute(text("SELECT count(*) FROM audit_log WHERE action = 'forged'")).scalar() == 0


def test_an_enterprise_registered_by_recording_or_amending_a_batch_is_audited(client, admin):
    """Registering an enterprise is a write of its own, whichever form registers it: the batch's
    record names only the credit code, so the enterprise's creation (who, its name) is audited too."""
    from tests.conftest import make_code

    user, h = admin
    first, second = make_code("91330212MA2AUD2T0"), make_code("91330212MA2AUD3T0")
    created = client.post("/api/batches", json=batch_payload(sample_no="AU-6", enterprise_credit_code=first,
                                                             enterprise_name=" 宁波登记一厂 "), headers=h)
    assert created.status_code == 201, created.json
    amended = client.patch(f"/api/batches/{created.json['id']}", headers={**h, "If-Match": '"1"'},
                           json={"reason": "wrong producer", "enterprise_credit_code": second,
                                 "enterprise_name": "宁波登记二厂"})
    assert amended.status_code == 200, amended.json
    records = trail(client, h, entity="enterprise")
    assert [(r["action"], r["user_id"], r["before"]) for r in records] == [("create", user.id, None)] * 2
    assert [(r["after"]["credit_code"], r["after"]["name"]) for r in records] == [
        (first, "宁波登记一厂"), (second, "宁波登记二厂")]
    assert [r["entity_id"] for r in records] == [str(created.json["enterprise"]["id"]),
                                                 str(amended.json["enterprise"]["id"])]
    assert records[0]["after"]["region_code"] == first[2:8] and records[0]["address"] == "127.0.0.1"


def test_a_console_write_names_the_login_and_host_it_came_from(runner, db_session):
    """No user of the system runs `flask followup calendar seed`: the record still says who did."""
    import getpass
    import socket

    assert runner.invoke(args=["followup", "calendar", "seed", "--year", "2025"]).exit_code == 0
    record = db_session.scalar(select(AuditRecord).order_by(AuditRecord.id.desc()).limit(1))
    assert record.user_id is None
    assert record.address == f"{getpass.getuser()}@{socket.gethostname()}"[:64]
