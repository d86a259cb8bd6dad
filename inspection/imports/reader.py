"""Read an uploaded CSV or XLSX file into a header and rows of strings.

Whatever is wrong with the file as a whole (encoding, format, size, header) raises
FileRefused with a message meant for the person who sent it.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Callable, Iterator

from core.messages import N_, Message

CSV_ENCODINGS = ("utf-8-sig", "gb18030")  # utf-8-sig also reads UTF-8 without a BOM
UTF16 = N_("the file is UTF-16; save it as UTF-8 (or GB18030) CSV")
NUL_BYTES = N_("the file contains NUL bytes: it is not a CSV text file")
NOT_TEXT = N_("the file is neither UTF-8 nor GB18030 text; save it as UTF-8 CSV")
XLSX_UNREADABLE = N_("the XLSX file cannot be read (%(error)s)")
NO_WORKSHEET = N_("the XLSX workbook has no worksheet")
EMPTY = N_("the file is empty")
NOT_XLSX = N_("the file is named .xlsx but is not an XLSX workbook")
NO_HEADER = N_("the file has no header row")
CSV_UNPARSABLE = N_("the CSV cannot be parsed: %(error)s")
SHEETS_WITH_HEADER = N_("the workbook has several sheets with a header row (%(sheets)s); "
                        "keep the batches on one sheet or hide the others")
# Rows above the header a file may have: a title (often merged across the columns), the
# reporting unit, a blank line. They are looked through for the header row, never read as data.
TITLE_ROWS = 10
IsHeader = Callable[[list[str]], bool]  # whether a row of normalised cells is the header row


class FileRefused(Exception):
    """The file cannot be imported at all; nothing was stored."""

    @property
    def message(self) -> Message | str:
        """Why, as the raiser wrote it (`str()` of the exception would drop the Message)."""
        return self.args[0]


def decode_csv(content: bytes) -> str:
    if content.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise FileRefused(UTF16)
    if b"\x00" in content[:4096]:
        raise FileRefused(NUL_BYTES)
    for encoding in CSV_ENCODINGS:
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(NOT_TEXT)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        # A spreadsheet keeps 15 significant digits: a longer number typed into a cell (a sample or
        # report number) has already lost its last ones. Written as the spreadsheet shows it, so
        # the row is rejected (rows.NUMBER_CUT) instead of stored with invented digits.
        return str(int(value)) if abs(value) < 1e15 else f"{value:.15G}"
    return str(value)


def _xlsx_rows(content: bytes, is_header: IsHeader) -> Iterator[list[str]]:
    """The rows of the one visible sheet that has a header row (or of the first visible sheet
    when none has: its first row is then refused as a header)."""
    from openpyxl import load_workbook  # imported lazily: only XLSX uploads need it

    # A damaged workbook makes openpyxl raise almost anything (zlib, XML, zip, index and type
    # errors, found by tests/test_import_fuzz.py), while opening or while reading rows lazily.
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise FileRefused(XLSX_UNREADABLE(error=exc.__class__.__name__)) from None
    try:
        # A hidden sheet is out of the inspector's sight (an old month, a code list): reading
        # it would store rows nobody looked at.
        sheets = [s for s in book.worksheets if s.sheet_state == "visible"]
        if not sheets:
            raise FileRefused(NO_WORKSHEET)
        try:
            # From row 1 whatever the sheet's recorded dimension: row numbers are Excel's.
            opened = [(sheet, _cells(sheet.iter_rows(min_row=1, values_only=True)))
                      for sheet in sheets]
            found = [(sheet, rows, head) for sheet, rows in opened
                     for head, is_found in [_header_rows(rows, is_header)] if is_found]
            if len(found) > 1:
                raise FileRefused(SHEETS_WITH_HEADER(sheets=", ".join(s.title for s, _, _ in found)))
            if found:
                _, rows, head = found[0]
                yield from head  # the caller finds the header again, after the same title rows
            else:  # no header anywhere: the first sheet from its first row, to be refused
                rows = _cells(sheets[0].iter_rows(min_row=1, values_only=True))
            yield from rows
        except FileRefused:
            raise
        except Exception as exc:
            raise FileRefused(XLSX_UNREADABLE(error=exc.__class__.__name__)) from None
    finally:
        book.close()


def _cells(rows: Iterator[tuple]) -> Iterator[list[str]]:
    return ([_cell(v) for v in row] for row in rows)


def _header_rows(rows: Iterator[list[str]], is_header: IsHeader) -> tuple[list[list[str]], bool]:
    """The rows read from `rows` up to and including the header row, and whether it was found
    among the first rows."""
    head: list[list[str]] = []
    for cells in rows:
        head.append(cells)
        if is_header(normalised_header(cells)):
            return head, True
        if len(head) > TITLE_ROWS:
            break
    return head, False


def normalised_header(cells: list[str]) -> list[str]:
    header = [h.strip().lower() for h in cells]
    while header and not header[-1]:
        header.pop()  # trailing empty columns left by spreadsheet programs
    return header


def is_xlsx(content: bytes, filename: str) -> bool:
    return content.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx")


def read_table(content: bytes, filename: str,
               is_header: IsHeader) -> tuple[list[str], int, Iterator[list[str]]]:
    """Return the normalised header, its row number (1-based, as a spreadsheet shows it) and an
    iterator over the rows after it.

    The header is the first row `is_header` accepts among the first rows (title rows above it
    are skipped). When there is none, the first row is returned as the header, for the caller
    to refuse with what it holds.
    """
    if not content.strip():
        raise FileRefused(EMPTY)
    if is_xlsx(content, filename):
        if not content.startswith(b"PK\x03\x04"):
            raise FileRefused(NOT_XLSX)
        rows = _guarded(_xlsx_rows(content, is_header))
    else:
        rows = _guarded(csv.reader(io.StringIO(decode_csv(content), newline="")))
    head, found = _header_rows(rows, is_header)
    if not head:
        raise FileRefused(NO_HEADER)
    if not found:
        return normalised_header(head[0]), 1, rows
    return normalised_header(head[-1]), len(head), rows


def _guarded(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from rows
    except csv.Error as exc:
        raise FileRefused(CSV_UNPARSABLE(error=exc)) from None
