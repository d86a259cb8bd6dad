"""Read an uploaded CSV or XLSX file into a header and rows of strings.

Whatever is wrong with the file as a whole (encoding, format, size, header) raises
FileRefused with a message meant for the person who sent it.
"""
from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Iterator

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
        return str(int(value))
    return str(value)


def _xlsx_rows(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook  # imported lazily: only XLSX uploads need it

    # A damaged workbook makes openpyxl raise almost anything (zlib, XML, zip, index and type
    # errors, found by tests/test_import_fuzz.py), while opening or while reading rows lazily.
    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception as exc:
        raise FileRefused(XLSX_UNREADABLE(error=exc.__class__.__name__)) from None
    try:
        if not book.worksheets:
            raise FileRefused(NO_WORKSHEET)
        rows = book.worksheets[0].iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except Exception as exc:
                raise FileRefused(XLSX_UNREADABLE(error=exc.__class__.__name__)) from None
            yield [_cell(v) for v in row]
    finally:
        book.close()


def is_xlsx(content: bytes, filename: str) -> bool:
    return content.startswith(b"PK\x03\x04") or filename.lower().endswith(".xlsx")


def read_table(content: bytes, filename: str) -> tuple[list[str], Iterator[list[str]]]:
    """Return the normalised header and an iterator over the data rows."""
    if not content.strip():
        raise FileRefused(EMPTY)
    if is_xlsx(content, filename):
        if not content.startswith(b"PK\x03\x04"):
            raise FileRefused(NOT_XLSX)
        rows = _xlsx_rows(content)
    else:
        text = decode_csv(content)
        rows = csv.reader(io.StringIO(text, newline=""))
    try:
        header = next(rows)
    except StopIteration:
        raise FileRefused(NO_HEADER) from None
    except csv.Error as exc:
        raise FileRefused(CSV_UNPARSABLE(error=exc)) from None
    header = [h.strip().lower() for h in header]
    while header and not header[-1]:
        header.pop()  # trailing empty columns left by spreadsheet programs
    return header, _guarded(rows)


def _guarded(rows: Iterator[list[str]]) -> Iterator[list[str]]:
    try:
        yield from rows
    except csv.Error as exc:
        raise FileRefused(CSV_UNPARSABLE(error=exc)) from None
