"""Import files as inspectors' office software writes them: Excel/WPS workbooks with a title
above the header, several or hidden sheets, dates typed the Chinese way, words spaced out to
align; CSV saved by Excel with a title row. What can be read one way only is read; the rest is
still refused or rejected (a wrong record is worse than a rejected row)."""
from __future__ import annotations

import io
from datetime import date

from openpyxl import Workbook
from sqlalchemy import select

from inspection.models import Batch
from tests.conftest import VALID_CODE
from tests.test_import import n, upload
from tests.web_helpers import csrf_token, fresh_limits, signed_in  # noqa: F401 (fixtures)

ZH_HEADER = ["抽样单编号", "抽样日期", "产品类别", "抽样地区", "检验结论", "统一社会信用代码", "生产企业名称", "不合格项目"]
MILK = "food.dairy.liquid_milk"


def row(sample_no: str, sampled_on="2026-11-03", result="合格", items="", region="330106") -> list:
    return [sample_no, sampled_on, MILK, region, result, VALID_CODE, "杭州示例乳业有限公司", items]


def workbook(*sheets: tuple[str, list[list]], hidden: tuple[str, ...] = ()) -> bytes:
    book = Workbook()
    book.remove(book.active)
    for title, rows in sheets:
        sheet = book.create_sheet(title)
        for cells in rows:
            sheet.append(cells)
        if title in hidden:
            sheet.sheet_state = "hidden"
    buf = io.BytesIO()
    book.save(buf)
    return buf.getvalue()


def stored(db_session) -> dict[str, date]:
    return dict(db_session.execute(select(Batch.sample_no, Batch.sampled_on)).all())


def test_title_rows_above_the_header_are_skipped_and_rows_keep_their_excel_numbers(client, admin, db_session):
    _, h = admin
    book = Workbook()
    sheet = book.active
    sheet.append(["2026年11月抽检汇总表"])
    sheet.merge_cells("A1:H1")
    sheet.append([])
    sheet.append(["填报单位：西湖区市场监督管理局", None, None, None, "填报日期：2026-11-30"])
    sheet.append(ZH_HEADER)
    sheet.append(row("T-1"))
    sheet.append(row("T-2", sampled_on="2026-13-01"))
    buf = io.BytesIO()
    book.save(buf)
    r = upload(client, h, buf.getvalue(), name="汇总.xlsx")
    assert r.status_code == 200, r.json
    # Row 6 is the bad row's number in Excel (title, blank, unit, header, T-1, T-2).
    assert (r.json["accepted"], r.json["rejected"]) == (1, [
        {"row": 6, "column": "sampled_on", "reason": "'2026-13-01' is not a date in YYYY-MM-DD form"}])
    # The same in a CSV saved from such a sheet.
    content = ("2026年11月抽检汇总表,,,,,,,\r\n" + ",".join(ZH_HEADER) + "\r\n"
               + ",".join(row("T-3", result="maybe")) + "\r\n").encode("gbk")
    r = upload(client, h, content)
    assert r.json["rejected"] == [{"row": 3, "column": "result", "reason": "result must be 'pass' or 'fail', got 'maybe'"}]
    # A file with no header at all is still refused, naming what its first row holds.
    r = upload(client, h, ("\n".join(",".join(row(f"N-{i}")) for i in range(3)) + "\n").encode())
    assert r.status_code == 422 and r.json["errors"]["file"][0].startswith("unknown column(s): n-0, ")
    assert set(stored(db_session)) == {"T-1"}


def test_header_cells_wrapped_or_spaced_in_excel_name_their_column(client, admin, db_session):
    _, h = admin
    header = ["抽样单\n编号", "抽样 日期", "产品类别\u3000", "\u00a0抽样地区", "检验结论", "统一社会信用代码",
              "生产企业名称", "不合格项目"]
    r = upload(client, h, workbook(("Sheet1", [header, row("W-1")])), name="b.xlsx")
    assert (r.status_code, r.json["accepted"]) == (200, 1), r.json
    # A header with more than spacing is still a different header: refused, never guessed.
    header[4] = "检验结论（复检）"
    r = upload(client, h, workbook(("Sheet1", [header, row("W-2")])), name="b.xlsx")
    assert r.status_code == 422 and r.json["errors"]["file"][0].startswith("unknown column(s): 检验结论（复检）;")


def test_a_table_starting_in_column_b_or_with_an_empty_spacer_column(client, admin, db_session):
    _, h = admin
    sheet = [[], [None, *ZH_HEADER], [None, *row("M-1")]]
    r = upload(client, h, workbook(("Sheet1", sheet)), name="b.xlsx")
    assert (r.status_code, r.json["accepted"], r.json["rejected"]) == (200, 1, []), r.json
    # A value under a column without a header belongs to no column: its row is rejected.
    header = ",".join(ZH_HEADER[:2] + [""] + ZH_HEADER[2:])
    lines = [",".join(row("M-2")[:2] + [""] + row("M-2")[2:]), ",".join(row("M-3")[:2] + ["备注"] + row("M-3")[2:])]
    r = upload(client, h, "\n".join([header, *lines]).encode())
    assert (r.json["accepted"], r.json["rejected"]) == (1, [{
        "row": 3, "column": "",
        "reason": "column C has no header but this row has a value in it; give the column a header or empty it"}])
    assert set(stored(db_session)) == {"M-1", "M-2"}


def test_the_sheet_with_the_header_is_read_never_a_hidden_one(client, admin, db_session):
    _, h = admin
    notes = ("填表说明", [["填表说明：抽样日期填写为 YYYY-MM-DD"], ["地区填写代码"]])
    r = upload(client, h, workbook(notes, ("数据", [ZH_HEADER, row("S-1")])), name="b.xlsx")
    assert (r.status_code, r.json["accepted"]) == (200, 1), r.json
    # A hidden sheet (an old month kept out of sight) is not read, even when it comes first.
    old = ("十月", [ZH_HEADER, row("OLD-1")])
    r = upload(client, h, workbook(old, ("十一月", [ZH_HEADER, row("S-2")]), hidden=("十月",)), name="b.xlsx")
    assert (r.status_code, r.json["accepted"]) == (200, 1), r.json
    # Two visible sheets of batches: which one was meant cannot be told; the file is refused.
    r = upload(client, h, workbook(("十月", [ZH_HEADER, row("S-3")]), ("十一月", [ZH_HEADER, row("S-4")])),
               name="b.xlsx")
    assert r.status_code == 422
    assert r.json["errors"]["file"][0] == ("the workbook has several sheets with a header row (十月, 十一月); "
                                           "keep the batches on one sheet or hide the others")
    assert set(stored(db_session)) == {"S-1", "S-2"}


def test_dates_written_year_first_in_the_usual_chinese_forms(client, admin, db_session):
    _, h = admin
    forms = ["2026/11/3", "2026/11/03", "2026.11.03", "2026-11-3", "2026年11月3日", "2026年11月03日",
             "２０２６－１１－０３", "2026/11/3 0:00", "2026-11-03 00:00:00"]
    refused = ["11/3/2026", "3/11/2026", "26/11/3", "2026/11-3", "2026年11月3", "2026-11-03 10:30",
               "2026/2/30", "20261103"]
    rows = [row(f"D-{i}", sampled_on=text) for i, text in enumerate(forms + refused)]
    r = upload(client, h, workbook(("Sheet1", [ZH_HEADER, *rows])), name="b.xlsx")
    assert r.json["accepted"] == len(forms), r.json
    assert set(stored(db_session).values()) == {date(2026, 11, 3)}
    assert [(e["row"], e["reason"]) for e in r.json["rejected"]] == [
        (2 + len(forms) + i, f"'{text}' is not a date in YYYY-MM-DD form") for i, text in enumerate(refused)]


def test_words_spaced_out_to_align_and_full_width_codes(client, admin, db_session):
    _, h = admin
    rows = [row("A-1", result="合  格"), row("A-2", result="不 合 格", items="菌落总数"),
            row("A-3", region="３３０１０６"), row("A-4", result="符合"), row("A-5", result="不合格。", items="霉菌")]
    rows[2][5] = VALID_CODE.replace("9", "９", 1)  # typed with the input method's full-width digits
    r = upload(client, h, workbook(("Sheet1", [ZH_HEADER, *rows])), name="b.xlsx")
    assert r.json["accepted"] == 3, r.json
    assert [(e["row"], e["column"]) for e in r.json["rejected"]] == [(5, "result"), (6, "result")]
    conclusions = dict(db_session.execute(select(Batch.sample_no, Batch.conclusion)).all())
    assert conclusions == {"A-1": "pass", "A-2": "fail", "A-3": "pass"}
    a3 = db_session.scalar(select(Batch).where(Batch.sample_no == "A-3"))
    assert (a3.region_code, a3.enterprise.credit_code) == ("330106", VALID_CODE)


def test_the_page_reads_a_titled_workbook_and_reports_by_excel_row_and_header(client, signed_in, db_session):
    signed_in("inspector", region="330100")
    content = workbook(("说明", [["填表说明"]]),
                       ("数据", [["2026年11月抽检汇总表"], ZH_HEADER, row("P-1", sampled_on="2026年11月3日"),
                                 row("P-2", sampled_on="3/11/2026")]))
    token = csrf_token(client, "/batches/import")
    page = client.post("/batches/import", data={"csrf_token": token, "file": (io.BytesIO(content), "b.xlsx")},
                       content_type="multipart/form-data").data.decode()
    assert 'class="accepted">1<' in page, page
    assert "<tr><td>4</td><td>抽样日期</td><td>“3/11/2026”不是 YYYY-MM-DD 格式的日期</td></tr>" in page
    assert n(db_session) == 1


def test_numbers_a_spreadsheet_has_cut_are_rejected_not_stored_with_invented_digits(client, admin, db_session):
    _, h = admin
    # Excel's CSV of a 12-digit sample number typed into a General cell, and of a lot number
    content = (",".join(ZH_HEADER + ["生产批号"]) + "\r\n"
               + ",".join(row("1.23457E+11") + [""]) + "\r\n"
               + ",".join(row("S-2") + ["2.02611E+13"]) + "\r\n"
               + ",".join(row("26E0001") + ["1E5"]) + "\r\n").encode("gbk")
    r = upload(client, h, content)
    assert [(x["row"], x["column"]) for x in r.json["rejected"]] == [(2, "sample_no"), (3, "lot")]
    assert "scientific notation" in r.json["rejected"][0]["reason"]
    # In a workbook: an 18-digit number is held as a float of 15 significant digits
    r = upload(client, h, workbook(("Sheet1", [ZH_HEADER, row(123456789012345678.0), row(123456789012345),
                                                row(999999999999999.0)])), name="n.xlsx")
    assert [(x["row"], x["column"], x["reason"][:22]) for x in r.json["rejected"]] == [
        (2, "sample_no", "'1.23456789012346E+17'")]
    assert set(stored(db_session)) == {"26E0001", "123456789012345", "999999999999999"}
