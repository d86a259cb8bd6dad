"""The enterprise registry: registration checks, and one registry shared by every region."""
from __future__ import annotations

from tests.conftest import make_code


def register(client, headers, region: str | None, base: str = "91330212MA7N8B9C0"):
    body = {"credit_code": make_code(base), "name": "宁波登记测试有限公司"}
    if region is not None:
        body["region"] = region
    return client.post("/api/enterprises", json=body, headers=headers)


def test_the_region_must_be_a_real_division(client, make_user):
    _, inspector = make_user("inspector", region="330106")

    for bad in ("999999", "33010", "abcdef"):
        response = register(client, inspector, bad)
        assert response.status_code == 422 and list(response.json["errors"]) == ["region"], bad
    unknown_here = register(client, inspector, "330199")  # Zhejiang's prefix, no such division
    assert unknown_here.status_code == 422
    assert unknown_here.json["errors"] == {"region": ["unknown region code '330199'"]}


def test_producers_from_anywhere_are_registered_and_seen_by_every_region(client, make_user):
    _, xihu_inspector = make_user("inspector", region="330106")
    _, ningbo_agency = make_user("agency", region="330212")

    beijing = register(client, xihu_inspector, "110105", base="91110105MA0A1B2C3")  # upstream, another province
    ningbo = register(client, xihu_inspector, None)  # region from the credit code: Yinzhou, Ningbo

    assert beijing.status_code == 201 and beijing.json["region_code"] == "110105"
    assert ningbo.status_code == 201 and ningbo.json["region_code"] == "330212"
    seen = client.get(f"/api/enterprises/{beijing.json['id']}", headers=ningbo_agency)
    assert seen.status_code == 200 and seen.json["credit_code"] == beijing.json["credit_code"]
