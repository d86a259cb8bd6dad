"""Defects found by the adversarial security review of the finished product, each shown by a test."""
from __future__ import annotations

import io
import zipfile

from inspection.imports.archive import MAX_EXPANSION
from tests.web_helpers import fresh_limits  # noqa: F401  (each test starts with fresh rate limits)

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


def test_behind_a_proxy_one_client_s_failed_sign_ins_do_not_lock_out_everyone(app, database_url, db_session,
                                                                             make_user, tmp_path):
    # gunicorn binds 127.0.0.1 and TLS ends at a proxy in front, so every request came from the
    # proxy's address: the sign-in limit (10 a minute, 50 an hour) counted the whole province's
    # sign-ins together, ten wrong passwords from anyone locked everybody out, and the audit
    # trail recorded the proxy as every user's address.
    from factory import create_app
    from tests.web_helpers import PASSWORD, csrf_token

    proxied = create_app("testing", {"DATABASE_URL": database_url, "TRUSTED_PROXY_HOPS": 1})
    proxied.instance_path = str(tmp_path)
    proxied.test_client_class = type(app.test_client())

    def client_at(address: str):
        client = proxied.test_client()
        client.environ_base.update(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)
        return client

    user, _ = make_user("inspector", region="330106")
    attacker = client_at("203.0.113.9")
    for _ in range(10):
        attacker.post("/login", data={"username": user.username, "password": "wrong",
                                      "csrf_token": csrf_token(attacker)})
    assert attacker.post("/login", data={"username": user.username, "password": PASSWORD,
                                         "csrf_token": csrf_token(attacker)}).status_code == 429
    colleague = client_at("198.51.100.7")
    assert colleague.post("/login", data={"username": user.username, "password": PASSWORD,
                                          "csrf_token": csrf_token(colleague)}).status_code == 302
    trail = colleague.get(f"/api/audit?entity=user&entity_id={user.id}", headers=make_user("admin")[1]).json
    assert {(r["action"], r["address"]) for r in trail if r["action"].startswith("login")} == {
        ("login_failed", "203.0.113.9"), ("login", "198.51.100.7")}


def test_without_a_proxy_a_forwarded_for_header_is_not_believed(client, make_user):
    from tests.web_helpers import sign_in

    user, _ = make_user("inspector", region="330106")
    client.environ_base.update(REMOTE_ADDR="192.0.2.1", HTTP_X_FORWARDED_FOR="198.51.100.7")
    assert sign_in(client, user.username).status_code == 302
    _, admin_headers = make_user("admin")
    trail = client.get(f"/api/audit?entity=user&entity_id={user.id}", headers=admin_headers).json
    assert [r["address"] for r in trail if r["action"] == "login"] == ["192.0.2.1"]
