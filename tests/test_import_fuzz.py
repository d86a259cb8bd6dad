"""Fuzzing the bulk import (hypothesis): whatever the file, a report or a clear refusal.

Generated files: random bytes; CSV text with the real header and cells drawn from hostile values
(formula-like cells, oversize fields, unknown codes, dates in the future or impossible, stray
quotes, NUL, Chinese words); the same text in wrong encodings; XLSX workbooks with such cells,
and truncated or corrupted workbooks. For every file, `import_batches` either

- raises FileRefused with a message, and nothing stored changed; or
- returns a report whose accepted rows are exactly the rows stored, each rejected row naming
  its row and column, and a stored value never rewritten (a formula-like cell stays text).

Any other exception (a database error on an oversize value, a decoding crash) fails the test.
The same files go through the HTTP upload once per example, which must never answer 5xx.
"""
from __future__ import annotations

import csv
import io
import zipfile
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func, select

from core.audit import AuditRecord
from core.clock import local_today
from inspection.imports.importer import ImportOptions, import_batches
from inspection.imports.reader import FileRefused
from inspection.imports.rows import COLUMNS
from inspection.models import Batch, Enterprise, ImportRun, SeriesMonth, TestItem
from tests.conftest import OUTSIDE_CODE, VALID_CODE

FUZZ = settings(max_examples=40, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
HEADER = ["sample_no", "sampled_on", "category", "region", "result", "enterprise_credit_code",
          "enterprise_name", "product", "failed_items", "reported_on"]
FUTURE = (local_today() + timedelta(days=400)).isoformat()

hostile_text = st.sampled_from([
    "=1+1", "=HYPERLINK(\"http://evil\",\"x\")", "+8613800000000", "-2+3", "@SUM(A1)", "=cmd|' /C calc'!A0",
    "\t=1", "x" * 300, "牛" * 5000, "\"", "a,b", "\r\n", "\x00", "\ufeff", "🥛", "", " ", "NULL", "None",
    "'; DROP TABLE batches; --", "%s%s%n", "\u202e", "9" * 40,
])
cell_values = {
    "sample_no": st.one_of(st.integers(1, 10**7).map(lambda n: f"FZ{n:07d}"), hostile_text),
    "sampled_on": st.sampled_from(["2025-03-10", "2024-12-31", FUTURE, "2025-02-30", "10/03/2025",
                                   "0000-01-01", "9999-12-31", "", "2025-3-1", "=TODAY()"]),
    "reported_on": st.sampled_from(["", "2025-03-20", "2025-03-01", FUTURE, "yesterday"]),
    "category": st.sampled_from(["food.dairy.liquid_milk", "farm.vegetable", "industrial",
                                 "food.no_such", "FOOD.DAIRY", "", "=A1"]),
    "region": st.sampled_from(["330106", "330212", "330000", "999999", "33010", "3301066", "", "=A1"]),
    "result": st.sampled_from(["pass", "fail", "合格", "不合格", "PASS", "maybe", ""]),
    "enterprise_credit_code": st.sampled_from([VALID_CODE, OUTSIDE_CODE, "", "91330106MA2B3C4D5X",
                                               "123", "=1+1", "I" * 18]),
    "enterprise_name": st.one_of(st.just("杭州示例乳业有限公司"), hostile_text),
    "product": hostile_text,
    "failed_items": st.sampled_from(["", "菌落总数", "菌落总数;大肠菌群", "=1+1", "；；", "x" * 600]),
}


@st.composite
def rows(draw, min_size=1, max_size=12):
    """Rows of strings under HEADER, each cell a plausible or a hostile value (sometimes
    a row too short or too long)."""
    out = []
    for _ in range(draw(st.integers(min_size, max_size))):
        row = [draw(cell_values[c]) for c in HEADER]
        shape = draw(st.sampled_from(["same", "same", "same", "short", "long"]))
        if shape == "short":
            row = row[:draw(st.integers(0, len(row) - 1))]
        elif shape == "long":
            row += draw(st.lists(hostile_text, min_size=1, max_size=3))
        out.append(row)
    return out


def csv_text(header: list[str], body: list[list[str]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf)
    writer.writerow(header)
    writer.writerows(body)
    return buf.getvalue()


def xlsx_bytes(header: list, body: list[list]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for row in body:
        sheet.append([v.replace("\x00", "") if isinstance(v, str) else v for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


headers = st.one_of(st.just(HEADER), st.permutations(HEADER),
                    st.lists(st.sampled_from([*COLUMNS, "unknown", "", "样品编号", "=1"]), max_size=8))
encodings = st.sampled_from(["utf-8", "utf-8-sig", "gb18030", "utf-16", "utf-16-le", "latin-1",
                             "shift_jis", "big5", "cp1252"])


@st.composite
def csv_files(draw):
    text = csv_text(draw(headers), draw(rows()))
    encoding = draw(encodings)
    return text.encode(encoding, errors="replace"), draw(st.sampled_from(["b.csv", "b.txt", "b"]))


@st.composite
def xlsx_files(draw):
    body = draw(rows(max_size=6))
    if draw(st.booleans()):  # typed cells, as spreadsheet programs store them
        for row in body:
            for i, v in enumerate(row):
                row[i] = draw(st.one_of(st.just(v), st.integers(-10**12, 10**12), st.floats(allow_nan=True),
                                        st.dates(), st.datetimes(), st.booleans(), st.none()))
    content = xlsx_bytes(draw(headers), body)
    damage = draw(st.sampled_from(["none", "none", "truncate", "flip", "drop-sheet"]))
    # Positions as fractions: the workbook's length varies with its timestamps between runs.
    where = draw(st.floats(0, 1))
    if damage == "truncate":
        content = content[:4 + int(where * (len(content) - 5))]
    elif damage == "flip":
        at = 30 + int(where * (len(content) - 31))
        content = content[:at] + bytes([content[at] ^ 0xFF]) + content[at + 1:]
    elif damage == "drop-sheet":
        src, out = zipfile.ZipFile(io.BytesIO(content)), io.BytesIO()
        with zipfile.ZipFile(out, "w") as dst:
            for item in src.infolist():
                if "worksheets/" not in item.filename:
                    dst.writestr(item, src.read(item))
        content = out.getvalue()
    return content, draw(st.sampled_from(["b.xlsx", "b.csv"]))


random_files = st.tuples(st.binary(max_size=2048), st.sampled_from(["b.csv", "b.xlsx", "b"]))


def state(session) -> tuple:
    return tuple(session.scalar(select(func.count()).select_from(m))
                 for m in (Batch, TestItem, Enterprise, ImportRun, AuditRecord)) + (
        session.scalar(select(func.coalesce(func.sum(SeriesMonth.batches), 0))),)


def check_import(session, user_id: int, content: bytes, name: str) -> None:
    before = state(session)
    try:
        result = import_batches(session, content, ImportOptions(name, user_id, max_bytes=256 * 1024))
    except FileRefused as refused:
        session.rollback()
        assert str(refused)
        assert state(session) == before, "a refused file changed what is stored"
        return
    report = result.report()
    after = state(session)
    assert after[0] - before[0] == report["accepted"], (report, before, after)
    assert after[3] - before[3] == 1  # one import run, even when every row is rejected
    for rejection in report["rejected"]:
        assert rejection["row"] >= 2 and rejection["reason"], rejection
    stored_now = session.scalars(select(Batch).where(Batch.import_id == report["import_id"])).all()
    for batch in stored_now:  # stored as sent: a formula-like cell is text, never evaluated
        assert batch.sample_no and batch.sampled_on <= local_today()


@FUZZ
@given(file=st.one_of(random_files, csv_files(), xlsx_files()))
def test_import_never_crashes_and_refusals_store_nothing(db_session, admin, file):
    user, _ = admin
    check_import(db_session, user.id, *file)


@FUZZ
@given(body=rows(min_size=1, max_size=20))
def test_valid_csv_with_hostile_cells_is_reported_row_by_row(db_session, admin, body):
    user, _ = admin
    content = csv_text(HEADER, body).encode("utf-8")
    check_import(db_session, user.id, content, "b.csv")


@pytest.mark.parametrize("size", [300 * 1024, 5 * 1024 * 1024])
def test_huge_files_are_refused_before_parsing(db_session, admin, size):
    user, _ = admin
    before = state(db_session)
    content = (",".join(HEADER) + "\n").encode() + b"x" * size
    with pytest.raises(FileRefused, match="limit"):
        import_batches(db_session, content, ImportOptions("big.csv", user.id, max_bytes=256 * 1024))
    assert state(db_session) == before


@settings(max_examples=15, deadline=None, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(file=st.one_of(random_files, csv_files(), xlsx_files()))
def test_upload_of_any_file_is_never_a_server_error(client, admin, file):
    _, headers = admin
    content, name = file
    response = client.post("/api/batches/import", headers=headers,
                           data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")
    assert response.status_code < 500, response.get_json()
    assert response.is_json
