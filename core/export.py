"""CSV and XLSX exports that a spreadsheet program cannot be tricked into executing."""
from __future__ import annotations

import csv
import io
from typing import Any, Iterable, Sequence

from flask import Response

# A cell starting with one of these is a formula to Excel/WPS (CSV injection); prefixing
# an apostrophe keeps it text. Numbers are written as numbers and are never escaped.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if v is None else safe_cell(v) for v in row])
    # The BOM makes Excel open UTF-8 Chinese text correctly.
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def xlsx_bytes(columns: Sequence[str], rows: Iterable[Sequence[Any]], title: str = "data",
               formats: Sequence[str | None] | None = None) -> bytes:
    """`formats`: a number format per column (e.g. "0.0%"), for sheets people read."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(title[:31])
    sheet.append(list(columns))
    for row in rows:
        if not formats:
            sheet.append([safe_cell(v) for v in row])
            continue
        cells = []
        for value, number_format in zip(row, formats):
            cell = WriteOnlyCell(sheet, safe_cell(value))
            if number_format and isinstance(value, (int, float)):
                cell.number_format = number_format
            cells.append(cell)
        sheet.append(cells)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def download(columns: Sequence[str], rows: Iterable[Sequence[Any]], fmt: str, basename: str,
             formats: Sequence[str | None] | None = None) -> Response:
    """A CSV or XLSX attachment response (`formats`: the XLSX columns' number formats)."""
    if fmt == "xlsx":
        body = xlsx_bytes(columns, rows, basename, formats)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        body, mimetype = csv_bytes(columns, rows), "text/csv"  # Werkzeug adds the charset
    return Response(body, mimetype=mimetype,
                    headers={"Content-Disposition": f'attachment; filename="{basename}.{fmt}"'})
