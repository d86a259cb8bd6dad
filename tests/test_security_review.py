"""Defects found by the adversarial security review of the finished product, each shown by a test."""
from __future__ import annotations

import io
import zipfile

from inspection.imports.archive import MAX_EXPANSION

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"


def _workbook(rows: list[list[str]], padding_strings: int) -> bytes:
    """A valid one-sheet workbook holding `rows` as inline strings, whose shared-strings part
    also holds `padding_strings` repeated entries nobody refers to (they shrink ~400-fold)."""
    def cell(col: int, row: int, text: str) -> str:
        return f'<c r="{chr(65 + col)}{row}" t="inlineStr"><is><t>{text}</t></is></c>'

    sheet_rows = "".join(f'<row r="{r}">' + "".join(cell(c, r, v) for c, v in enumerate(values)) + "</row>"
                         for r, values in enumerate(rows, 1))
    parts = {
        "[Content_Types].xml": (
            '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
            f'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
            '<Default Extension="xml" ContentType="application/xml"/>'
            f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}.sheet.main+xml"/>'
            f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPES}.worksheet+xml"/>'
            f'<Override PartName="/xl/sharedStrings.xml" ContentType="{_TYPES}.sharedStrings+xml"/></Types>'),
        "_rels/.rels": (f'<Relationships xmlns="{_PKG}"><Relationship Id="rId1" '
                        f'Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
        "xl/workbook.xml": (f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>'
                            '<sheet name="batches" sheetId="1" r:id="rId1"/></sheets></workbook>'),
        "xl/_rels/workbook.xml.rels": (
            f'<Relationships xmlns="{_PKG}">'
            f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
            f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/></Relationships>'),
        "xl/worksheets/sheet1.xml": f'<worksheet xmlns="{_MAIN}"><sheetData>{sheet_rows}</sheetData></worksheet>',
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as archive:
        for name, xml in parts.items():
            archive.writestr(name, '<?xml version="1.0" encoding="UTF-8"?>' + xml)
        archive.writestr("xl/sharedStrings.xml", f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{_MAIN}">'
                         + "<si><t>a</t></si>" * padding_strings + "</sst>")
    return out.getvalue()


ROWS = [["sample_no", "sampled_on", "category", "region", "result"],
        ["ZB-1", "2025-04-01", "food.dairy", "330106", "pass"]]


def _upload(client, headers, content: bytes):
    return client.post("/api/batches/import", headers=headers, data={"file": (io.BytesIO(content), "batches.xlsx")},
                       content_type="multipart/form-data")


def test_a_workbook_that_unpacks_a_thousandfold_is_refused_before_it_is_read(client, make_user):
    # Any inspector could upload a few hundred kilobytes that openpyxl unpacks and holds whole:
    # 208 KB cost 84 s of CPU and 480 MB in the web thread, 2 MB (still imported at once) would
    # cost gigabytes. Refused from the archive's directory, without reading it.
    _, headers = make_user("inspector", region="330106")
    bomb = _workbook(ROWS, padding_strings=300_000)
    with zipfile.ZipFile(io.BytesIO(bomb)) as archive:
        assert sum(p.file_size for p in archive.infolist()) > MAX_EXPANSION * len(bomb)
    refused = _upload(client, headers, bomb)
    assert refused.status_code == 422, refused.json
    assert "unpacks to" in refused.json["errors"]["file"][0]
    assert client.get("/api/batches", headers=headers).json["items"] == []


def test_an_ordinary_workbook_still_imports(client, make_user):
    _, headers = make_user("inspector", region="330106")
    accepted = _upload(client, headers, _workbook(ROWS, padding_strings=10))
    assert accepted.status_code == 200, accepted.json
    assert accepted.json["accepted"] == 1
