"""How far an uploaded XLSX workbook unpacks, checked before anything reads it.

An XLSX file is a zip archive, and openpyxl reads its shared-strings part into memory whole. A
part of repeated XML shrinks about a thousand times, so a file of a few hundred kilobytes could
make the server parse and hold gigabytes (measured: 208 KB took 84 s of CPU and 480 MB). Real
workbooks unpack to 8 to 17 times their size (the import template filled with demo rows, and
with one row repeated); past `MAX_EXPANSION` times it is no spreadsheet anyone typed.
"""
from __future__ import annotations

import io
import zipfile

from core.messages import N_
from inspection.imports.reader import FileRefused

MAX_EXPANSION = 100
UNPACKS_TOO_FAR = N_("the XLSX workbook unpacks to %(size)s bytes, more than %(ratio)s times the file's "
                     "size: it cannot be an ordinary spreadsheet; save it again from your spreadsheet program")


def check_expansion(content: bytes) -> None:
    """Refuse a workbook whose parts unpack to more than MAX_EXPANSION times the file's size.

    The sizes are those the archive's directory declares: zipfile stops reading a part at its
    declared size and fails its checksum if more follows, so a part cannot unpack to more."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(part.file_size for part in archive.infolist())
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, OSError, EOFError):
        return  # not a readable archive: the reader refuses it with its own message
    if unpacked > MAX_EXPANSION * len(content):
        raise FileRefused(UNPACKS_TOO_FAR(size=f"{unpacked:,}", ratio=MAX_EXPANSION))
