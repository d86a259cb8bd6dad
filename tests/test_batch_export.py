"""Downloading the batch list as a file in the import's columns: filters and scope, the row cap,
formula-like text, and the round trip (an exported file imports back unchanged)."""
from __future__ import annotations

import csv
import io
import re
from datetime import datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from inspection.imports.columns import FILE_COLUMNS
from inspection.imports.rows import COLUMNS, parse_row
from inspection.models import Batch, TestItem
from inspection.services import batch_export
from tests.conftest import VALID_CODE, make_code
from tests.web_helpers import csrf_token, fresh_limits, signed_in  # noqa: F401  (fixtures)

NEW_CODE = make_code("91330212MA2K8L9M0")
# Every column filled somewhere; cells a spreadsheet would take for a formula (-, =, +, @);
# a fail by items and one by reason; farm produce sold without a credit code; a code known from
# an earlier row given without its name.
ROWS = [
    ["E-1", "2025-04-01", "food.dairy.liquid_milk", "330106", "pass", "2025-04-10", VALID_CODE, "杭州示例乳业有限公司",
     "纯牛奶", "-", "250mL/盒", "20250301", "2025-03-01", "distribution", "杭州市西湖区市场监督管理局",
     "杭州市食品药品检验研究院", "BG-1", "", ""],
    ["E-2", "2025-04-02", "food.dairy.liquid_milk", "330106", "fail", "2025-04-12", VALID_CODE, "",
     "=1+2 牛奶", "", "+1L", "@A2", "", "production", "", "", "", "菌落总数;大肠菌群", ""],
    ["E-3", "2025-04-03", "farm.vegetable", "330106", "fail", "", "", "西湖区某农贸市场",
     "青菜", "", "", "", "", "", "", "", "", "", "拒绝抽样"],
    ["E-4", "2025-05-04", "industrial", "330212", "pass", "2025-05-20", NEW_CODE, "宁波新注册电器有限公司",
     "电水壶", "", "", "", "2025-01-01", "online", "", "", "BG-4", "", ""],
    ["E-5", "2025-05-05", "food.biscuit", "330212", "fail", "", VALID_CODE, "杭州示例乳业有限公司",
     "饼干", "", "", "", "", "catering", "", "", "", "铅", "-"],
]
NEWEST_FIRST = ["E-5", "E-4", "E-3", "E-2", "E-1"]


def as_csv(header, rows) -> bytes:
    out = io.StringIO()
    csv.writer(out).writerows([header, *rows])
    return out.getvalue().encode("utf-8")


def upload(client, headers, content: bytes, name: str):
    response = client.post("/api/batches/import", headers=headers, data={"file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data")
    assert response.status_code == 200, response.json
    return response.json


@pytest.fixture
def imported(client, admin, db_session):
    _, h = admin
    report = upload(client, h, as_csv(COLUMNS, ROWS), "batches.csv")
    assert (report["accepted"], report["rejected"]) == (5, [])
    return h


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200 and response.mimetype == "text/csv", response.data[:300]
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))


def read_xlsx(response) -> list[list]:
    assert response.status_code == 200, response.data[:300]
    sheet = load_workbook(io.BytesIO(response.data)).active
    return [[c.value for c in row] for row in sheet.iter_rows()]


def export(client, headers, **query):
    return client.get("/api/batches/export", query_string=query, headers=headers)


def samples(rows) -> list[str]:
    return [row[0] for row in rows[1:]]


def counts(db_session) -> tuple[int, int]:
    return (db_session.scalar(select(func.count()).select_from(Batch)),
            db_session.scalar(select(func.count()).select_from(TestItem)))


def test_the_csv_holds_every_import_column_as_the_importer_reads_it(client, imported):
    rows = read_csv(export(client, imported))
    assert rows[0] == list(COLUMNS)
    assert samples(rows) == NEWEST_FIRST  # the list's order
    by_sample = {row[0]: dict(zip(COLUMNS, row)) for row in rows[1:]}
    first = by_sample["E-1"]
    assert [first[c] for c in COLUMNS] == [*ROWS[0][:9], "'-", *ROWS[0][10:]]  # every column, as imported
    second = by_sample["E-2"]
    # A known code's registered name; the failed items joined by ";"; formula-like text kept as text.
    assert second["enterprise_name"] == "杭州示例乳业有限公司" and second["failed_items"] == "菌落总数;大肠菌群"
    assert (second["product"], second["specification"], second["lot"]) == ("'=1+2 牛奶", "'+1L", "'@A2")
    farm = by_sample["E-3"]
    assert (farm["enterprise_credit_code"], farm["enterprise_name"], farm["fail_reason"]) == ("", "西湖区某农贸市场", "拒绝抽样")
    assert (by_sample["E-4"]["stage"], by_sample["E-4"]["production_date"]) == ("online", "2025-01-01")


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_exported_file_imports_back_unchanged(client, imported, db_session, fmt):
    response = export(client, imported, format=fmt)
    assert response.headers["Content-Disposition"] == f'attachment; filename="batches.{fmt}"'
    before = counts(db_session)
    report = upload(client, imported, response.data, f"batches.{fmt}")
    assert (report["accepted"], report["unchanged"], report["rejected"]) == (0, 5, [])
    assert counts(db_session) == before == (5, 3)  # nothing duplicated
    stored = db_session.scalar(select(Batch).where(Batch.sample_no == "E-2"))
    assert (stored.product, stored.specification, stored.lot) == ("=1+2 牛奶", "+1L", "@A2")


def test_the_workbook_has_date_cells_and_no_formulas(client, imported):
    book = load_workbook(io.BytesIO(export(client, imported, format="xlsx").data))
    sheet = book.active
    cells = {row[0].value: row for row in sheet.iter_rows(min_row=2)}
    assert [c.value for c in next(sheet.iter_rows())] == list(COLUMNS)
    assert cells["E-1"][1].value == datetime(2025, 4, 1) and cells["E-1"][1].is_date
    product = cells["E-2"][COLUMNS.index("product")]
    assert product.value == "'=1+2 牛奶" and product.data_type == "s"  # text, never a formula


def test_the_page_downloads_chinese_headers_and_words_that_import_back_unchanged(client, imported, signed_in,
                                                                                  db_session):
    signed_in("inspector", region="330106")
    rows = read_csv(client.get("/batches/export?format=csv"))
    assert rows[0] == [c.header_zh for c in FILE_COLUMNS]
    assert samples(rows) == ["E-3", "E-2", "E-1"]  # the inspector's district only
    by_sample = {row[0]: row for row in rows[1:]}
    result, stage = COLUMNS.index("result"), COLUMNS.index("stage")
    assert (by_sample["E-1"][result], by_sample["E-1"][stage]) == ("合格", "流通")
    assert (by_sample["E-2"][result], by_sample["E-2"][stage]) == ("不合格", "生产")
    book = read_xlsx(client.get("/batches/export?format=xlsx"))
    assert book[0] == [c.header_zh for c in FILE_COLUMNS] and [r[0] for r in book[1:]] == ["E-3", "E-2", "E-1"]
    for name, content in (("zh.csv", as_csv(rows[0], rows[1:])), ("zh.xlsx", client.get(
            "/batches/export?format=xlsx").data)):
        report = upload(client, imported, content, name)
        assert (report["accepted"], report["unchanged"], report["rejected"]) == (0, 3, []), name
    assert counts(db_session) == (5, 3)
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en", "next": "/"})
    assert read_csv(client.get("/batches/export?format=csv"))[0] == list(COLUMNS)


def test_scope_and_filters_are_the_list_s(client, imported, make_user):
    _, district = make_user("inspector", region="330106")
    assert samples(read_csv(export(client, district))) == ["E-3", "E-2", "E-1"]
    assert samples(read_csv(export(client, district, region="330212"))) == []  # another region: nothing
    _, ningbo = make_user("supervisor", region="330200")
    assert samples(read_csv(export(client, ningbo))) == ["E-5", "E-4"]
    assert samples(read_csv(export(client, imported, conclusion="fail"))) == ["E-5", "E-3", "E-2"]
    assert samples(read_csv(export(client, imported, sampled_from="2025-04-02", sampled_to="2025-05-04"))) == \
        ["E-4", "E-3", "E-2"]
    assert samples(read_csv(export(client, imported, category="food"))) == ["E-5", "E-2", "E-1"]
    assert samples(read_csv(export(client, imported, stage="production"))) == ["E-2"]
    assert samples(read_csv(export(client, imported, search="牛奶"))) == ["E-2", "E-1"]
    refused = export(client, imported, sampled_from="2025-05-01", sampled_to="2025-04-01")
    assert refused.status_code == 422 and "sampled_from" in refused.json["errors"]
    assert "format" in export(client, imported, format="pdf").json["errors"]


def test_voided_batches_only_when_asked_and_as_they_stand(client, imported, db_session):
    voided = db_session.scalar(select(Batch.id).where(Batch.sample_no == "E-1"))
    assert client.post(f"/api/batches/{voided}/void", json={"reason": "送错实验室"}, headers=imported).status_code == 200
    assert "E-1" not in samples(read_csv(export(client, imported)))
    response = export(client, imported, include_voided="true")
    rows = read_csv(response)
    assert samples(rows) == NEWEST_FIRST and rows[0] == list(COLUMNS)  # no extra column
    report = upload(client, imported, response.data, "with-voided.csv")
    assert report["unchanged"] == 4 and report["rejected"] == [
        {"row": 6, "column": "sample_no", "reason": "sample number E-1 belongs to a voided batch"}]


def test_more_batches_than_the_cap_are_refused_not_cut(app, client, imported, monkeypatch):
    monkeypatch.setitem(app.config, "BATCH_EXPORT_MAX_ROWS", 4)
    for fmt in ("csv", "xlsx"):
        refused = export(client, imported, format=fmt)
        assert refused.status_code == 422
        assert refused.json["message"].startswith("more than 4 batches match these filters")
        assert set(refused.json["errors"]) == {"sampled_from", "region"}
    assert samples(read_csv(export(client, imported, region="330106"))) == ["E-3", "E-2", "E-1"]
    monkeypatch.setitem(app.config, "BATCH_EXPORT_MAX_ROWS", 5)  # exactly the cap: all of them
    assert samples(read_csv(export(client, imported))) == NEWEST_FIRST


def test_the_file_is_read_in_keyset_pages_and_refused_if_it_grows_past_the_cap(app, client, imported,
                                                                                monkeypatch):
    monkeypatch.setattr(batch_export, "PAGE_ROWS", 2)
    assert samples(read_csv(export(client, imported))) == NEWEST_FIRST  # three pages, each row once
    assert samples(read_csv(export(client, imported, search="牛奶", format="csv"))) == ["E-2", "E-1"]
    # Batches recorded between the count and the last page: refused, not cut at the cap.
    monkeypatch.setattr(batch_export, "_matching", lambda *args: 0)
    monkeypatch.setitem(app.config, "BATCH_EXPORT_MAX_ROWS", 3)
    assert export(client, imported).status_code == 422


def test_the_list_page_links_downloads_with_its_filters(client, imported, signed_in):
    signed_in("supervisor")
    page = client.get("/batches?conclusion=fail&region=330106&cursor=abc").data.decode()
    links = re.findall(r'href="(/batches/export\?[^"]+)"', page)
    assert len(links) == 2, links
    for link, fmt in zip(links, ("csv", "xlsx")):
        query = dict(part.split("=") for part in link.split("?")[1].split("&amp;"))
        assert query == {"conclusion": "fail", "region": "330106", "format": fmt}
    assert "下载 CSV" in page and "下载 XLSX" in page
    assert samples(read_csv(client.get(links[0].replace("&amp;", "&")))) == ["E-3", "E-2"]


def test_a_refused_download_is_said_on_the_list_page(app, client, imported, signed_in, monkeypatch):
    signed_in("inspector")
    monkeypatch.setitem(app.config, "BATCH_EXPORT_MAX_ROWS", 4)
    response = client.get("/batches/export?format=xlsx&conclusion=pass")
    assert samples(read_xlsx(response)) == ["E-4", "E-1"]
    response = client.get("/batches/export?format=xlsx&stage=")
    assert response.status_code == 302 and response.headers["Location"] == "/batches"
    page = client.get("/batches").data.decode()
    assert "未下载：符合这些筛选条件的批次超过 4 个，一次导出最多 4 个：请缩小抽样日期范围或地区" in page
    response = client.get("/batches/export?sampled_from=2025-13-01&format=csv")
    assert response.status_code == 302 and response.headers["Location"] == "/batches?sampled_from=2025-13-01"
    page = client.get(response.headers["Location"]).data.decode()
    assert "未下载：请先更正筛选条件。" in page and "2025-13-01" in page


def test_only_the_export_s_apostrophe_is_dropped_on_import():
    data, problems = parse_row({"sample_no": "S-1", "brand": "'-", "lot": "'=A1", "product": "'abc",
                                "specification": "'", "fail_reason": "''-"})
    assert (data["brand"], data["lot"]) == ("-", "=A1")  # safe_cell's marks, undone
    assert (data["product"], data["specification"], data["fail_reason"]) == ("'abc", "'", "''-")  # written so


def test_a_recorded_batch_with_passing_items_comes_back_as_a_conflict_not_an_overwrite(client, admin,
                                                                                         db_session):
    """A file row holds only the failed items' names: the rest of a recorded batch's items are not
    in it, and importing it back must not strip them."""
    from tests.conftest import batch_payload

    _, h = admin
    failed_item = {"item": "铅", "value": "0.8", "unit": "mg/kg", "limit": "≤0.5", "standard": "GB 2762", "verdict": "fail"}
    client.post("/api/batches", json=batch_payload(sample_no="R-1"), headers=h)  # one passing item
    client.post("/api/batches", json=batch_payload(sample_no="R-2", conclusion="fail", items=[failed_item]),
                headers=h)
    rows = read_csv(export(client, h))
    assert [(r[0], r[COLUMNS.index("failed_items")]) for r in rows[1:]] == [("R-2", "铅"), ("R-1", "")]
    report = upload(client, h, as_csv(rows[0], rows[1:]), "recorded.csv")
    assert report["unchanged"] == 1 and report["rejected"] == [
        {"row": 3, "column": "sample_no",
         "reason": "sample number R-1 is already recorded with different content; amend it instead"}]
    kept = db_session.scalar(select(Batch).where(Batch.sample_no == "R-1"))
    assert [(i.item, i.verdict, i.unit) for i in kept.items] == [("蛋白质", "pass", "g/100g")]
