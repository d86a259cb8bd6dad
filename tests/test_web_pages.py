"""The pages with Flask's test client: the role table, scope, CSRF, forms and their messages."""
from __future__ import annotations

import io
import re
from datetime import date, datetime, timedelta, timezone

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from core.audit import AuditRecord
from core.clock import local_today
from core.jobs import Job, run_job
from core.reference.models import CategoryFloor
from inspection.models import Batch
from tests.conftest import VALID_CODE, batch_payload
from tests.series_data import MILK, csv_rows, load
from tests.web_helpers import csrf_token, fresh_limits, seed_alert, sign_in, signed_in  # noqa: F401 (fixtures)
from warning.models import Alert, Scan

PAGE_BLUEPRINTS = ("web", "batch_pages", "supervision", "reports", "admin", "followup_pages", "subscription_pages")
ROLES = ("inspector", "supervisor", "agency", "admin")
ACTION_ARGS = {"followup_pages.disposal_action": "record", "followup_pages.enterprise_blacklist": "blacklist"}


def _page_rules(app):
    for rule in app.url_map.iter_rules():
        view = app.view_functions[rule.endpoint]
        if rule.endpoint.split(".")[0] in PAGE_BLUEPRINTS and hasattr(view, "permission"):
            action = ACTION_ARGS.get(rule.endpoint, "acknowledge")
            values = {arg: action if arg == "action" else 1 for arg in rule.arguments}
            method = "GET" if "GET" in rule.methods else "POST"
            yield rule.endpoint, view.permission, method, values


def test_every_page_declares_a_permission(app):
    from core.auth.permissions import GRANTS

    open_pages = {"web.login", "web.logout", "web.home", "web.password", "web.language", "web.static"}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in PAGE_BLUEPRINTS and rule.endpoint not in open_pages:
            assert getattr(app.view_functions[rule.endpoint], "permission", None) in GRANTS, rule.endpoint


@pytest.mark.parametrize("role", ROLES)
def test_pages_obey_the_role_table(app, client, signed_in, role):
    from core.auth.permissions import GRANTS

    signed_in(role)
    token = csrf_token(client, "/")
    with app.test_request_context():
        from flask import url_for

        rules = [(e, p, m, url_for(e, **v)) for e, p, m, v in _page_rules(app)]
    assert len(rules) >= 15
    for endpoint, permission, method, url in rules:
        if method == "GET":
            status = client.get(url).status_code
        else:
            status = client.post(url, data={"csrf_token": token}).status_code
        if role in GRANTS[permission]:
            assert status != 403, (endpoint, status)
        else:
            assert status == 403, (endpoint, status)


def test_anonymous_visitors_are_sent_to_sign_in(client, db_session):
    for path in ("/batches", "/batches/new", "/supervision/dashboard", "/supervision/alerts",
                 "/reports/attainment", "/admin/users", "/admin/audit"):
        response = client.get(path)
        assert response.status_code == 302 and response.headers["Location"].startswith("/login"), path


def test_forbidden_page_is_an_html_page_in_chinese(client, signed_in):
    signed_in("inspector")
    response = client.get("/admin/users")
    assert response.status_code == 403 and "text/html" in response.content_type
    assert "您的角色无权访问此页面" in response.data.decode()


def test_menu_shows_only_what_the_role_may_open(client, signed_in):
    signed_in("agency")
    page = client.get("/").data.decode()
    assert "抽检批次" in page and "录入批次" not in page and "用户与角色" not in page


def _batch_form(token, **overrides):
    form = {"csrf_token": token, "sample_no": "W0000001", "sampled_on": "2025-03-10", "reported_on": "2025-03-20",
            "category": MILK, "region": "330106", "enterprise_credit_code": VALID_CODE,
            "enterprise_name": "杭州示例乳业有限公司", "product": "纯牛奶", "stage": "production",
            "conclusion": "pass", "items-0-item": "蛋白质", "items-0-value": "3.1", "items-0-verdict": "pass",
            "items-1-item": "", "items-1-verdict": "pass"}
    form.update(overrides)
    return form


def test_record_a_batch_through_the_form(client, signed_in, db_session):
    user = signed_in("inspector", region="330100")
    token = csrf_token(client, "/batches/new")
    response = client.post("/batches/new", data=_batch_form(token))
    assert response.status_code == 302
    batch = db_session.scalar(select(Batch).where(Batch.sample_no == "W0000001"))
    assert batch.created_by_id == user.id and [i.item for i in batch.items] == ["蛋白质"]
    assert db_session.scalar(select(func.count()).select_from(AuditRecord)
                             .where(AuditRecord.entity == "batch", AuditRecord.action == "create")) == 1
    shown = client.get(response.headers["Location"]).data.decode()
    assert "W0000001" in shown and "2025年3月10日" in shown  # date formatted for zh-CN


def test_record_a_similar_batch_fills_what_a_sampling_round_shares(client, signed_in, db_session):
    signed_in("inspector", region="330100")
    first = _record(client, lot="20250301A", report_no="R-1", **{
        "items-0-unit": "g/100g", "items-0-limit": "≥2.9", "items-0-standard": "GB 25190"})
    assert 'id="record-like" href="/batches/new?like=%d"' % first in client.get(f"/batches/{first}").data.decode()
    page = client.get(f"/batches/new?like={first}").data.decode()
    assert 'id="like-note"' in page and "W0000001" in page
    value = lambda name: re.search(rf'<input[^>]*name="{name}"[^>]*>', page).group(0)  # noqa: E731
    for name, expected in (("product", "纯牛奶"), ("enterprise_credit_code", VALID_CODE), ("items-0-item", "蛋白质"),
                           ("items-0-unit", "g/100g"), ("items-0-standard", "GB 25190")):
        assert f'value="{expected}"' in value(name), name
    for name in ("sample_no", "sampled_on", "lot", "report_no", "items-0-value"):
        assert "value=" not in value(name) or 'value=""' in value(name), name  # the inspector's to enter
    # Saved with its own sample number and dates, it is a batch of its own
    token = csrf_token(client, "/batches/new")
    second = client.post("/batches/new", data=_batch_form(token, sample_no="W0000002", **{
        "items-0-unit": "g/100g", "items-0-limit": "≥2.9", "items-0-standard": "GB 25190"}))
    assert second.status_code == 302
    # A batch outside the user's region cannot be copied (nor its existence learnt)
    signed_in("inspector", region="330200")
    assert client.get(f"/batches/new?like={first}").status_code == 404


def test_form_messages_sit_next_to_their_fields(client, signed_in, db_session):
    signed_in("inspector")
    token = csrf_token(client, "/batches/new")
    future = (date.today() + timedelta(days=30)).isoformat()
    response = client.post("/batches/new", data=_batch_form(token, sample_no="", sampled_on=future))
    page = response.data.decode()
    assert response.status_code == 422
    assert 'aria-invalid="true"' in re.search(r'<input[^>]*id="sample_no"[^>]*>', page).group(0)
    assert re.search(r'id="sample_no-error">此项为必填', page)
    # The service's rule (no sampling date in the future) comes back next to its field too.
    response = client.post("/batches/new", data=_batch_form(token, sampled_on=future))
    assert response.status_code == 422
    assert re.search(r'id="sampled_on-error">抽样日期 [^<]*晚于今天', response.data.decode())  # in the page's language
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 0


def test_form_without_csrf_token_is_refused(client, signed_in, db_session):
    signed_in("inspector")
    response = client.post("/batches/new", data=_batch_form(""))
    assert response.status_code == 400 and "表单已过期或不完整" in response.data.decode()
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 0


def test_recording_outside_ones_region_is_refused_next_to_the_field(client, signed_in, db_session):
    signed_in("inspector", region="330200")  # Ningbo
    token = csrf_token(client, "/batches/new")
    response = client.post("/batches/new", data=_batch_form(token, region="330106"))
    assert response.status_code == 422  # the region list offers only Ningbo's regions
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 0


def _record(client, **overrides):
    token = csrf_token(client, "/batches/new")
    response = client.post("/batches/new", data=_batch_form(token, **overrides))
    assert response.status_code == 302, response.data.decode()[:2000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_amend_keeps_the_old_version_and_refuses_a_stale_one(client, signed_in, db_session):
    signed_in("inspector")
    batch_id = _record(client)
    page = client.get(f"/batches/{batch_id}/amend").data.decode()
    assert 'name="version" type="hidden" value="1"' in page
    token = csrf_token(client, f"/batches/{batch_id}/amend")
    amended = _batch_form(token, version="1", reason="实验室更正报告", product="高钙纯牛奶")
    assert client.post(f"/batches/{batch_id}/amend", data=amended).status_code == 302
    shown = client.get(f"/batches/{batch_id}").data.decode()
    assert "高钙纯牛奶" in shown and "实验室更正报告" in shown
    stale = client.post(f"/batches/{batch_id}/amend", data={**amended, "product": "again"})
    assert stale.status_code == 422 and "已被他人修改" in stale.data.decode()
    assert db_session.get(Batch, batch_id).product == "高钙纯牛奶"


def test_an_item_row_with_a_result_but_no_name_is_refused_not_dropped(client, signed_in, db_session):
    signed_in("inspector")
    token = csrf_token(client, "/batches/new")
    response = client.post("/batches/new", data=_batch_form(token, **{"items-1-value": "0.5", "items-1-unit": "mg/kg"}))
    assert response.status_code == 422
    assert re.search(r'<span class="error">检验项目须填写名称</span>', response.data.decode())
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 0


def test_an_amendment_without_the_version_it_was_opened_at_is_refused(client, signed_in, db_session):
    signed_in("inspector")
    batch_id = _record(client)
    token = csrf_token(client, f"/batches/{batch_id}/amend")
    for version in ("", "v1"):
        refused = client.post(f"/batches/{batch_id}/amend", data=_batch_form(
            token, version=version, reason="实验室更正报告", product="高钙纯牛奶"))
        assert refused.status_code == 422 and "表单未注明打开时的批次版本" in refused.data.decode()
    db_session.expire_all()
    assert db_session.get(Batch, batch_id).product == "纯牛奶"


def test_the_amend_page_renames_a_farm_seller_and_opens_a_batch_of_many_items(client, signed_in, make_user,
                                                                             db_session):
    signed_in("inspector")
    batch_id = _record(client, category="farm.vegetable", enterprise_credit_code="",
                       enterprise_name="杭州某农贸市场 12 号摊位")
    token = csrf_token(client, f"/batches/{batch_id}/amend")
    renamed = client.post(f"/batches/{batch_id}/amend", data=_batch_form(
        token, version="1", reason="摊位号更正", category="farm.vegetable", enterprise_credit_code="",
        enterprise_name="杭州某农贸市场 15 号摊位"))
    assert renamed.status_code == 302, renamed.data.decode()[:2000]
    db_session.expire_all()
    assert db_session.get(Batch, batch_id).producer_name == "杭州某农贸市场 15 号摊位"
    # A batch the API recorded with 250 test items (it takes up to 500) opens for amendment.
    _, h = make_user("inspector")
    many = client.post("/api/batches", headers=h, json=batch_payload(
        items=[{"item": f"项目{i}", "verdict": "pass"} for i in range(250)]))
    assert many.status_code == 201, many.json
    page = client.get(f"/batches/{many.json['id']}/amend")
    assert page.status_code == 200 and 'name="items-249-item"' in page.data.decode()


def test_an_amendment_that_changes_nothing_is_refused_and_the_history_names_who_changed_what(
        client, signed_in, db_session):
    from inspection.models import BatchRevision

    user = signed_in("inspector")
    batch_id = _record(client)
    token = csrf_token(client, f"/batches/{batch_id}/amend")
    unchanged = client.post(f"/batches/{batch_id}/amend", data=_batch_form(token, version="1", reason="核对"))
    assert unchanged.status_code == 422
    assert "没有任何改动：此次更正与批次现有内容相同" in unchanged.data.decode()
    db_session.expire_all()
    assert db_session.get(Batch, batch_id).version == 1
    assert db_session.scalar(select(func.count()).select_from(BatchRevision)) == 0
    assert client.post(f"/batches/{batch_id}/amend", data=_batch_form(
        token, version="1", reason="实验室更正报告", product="高钙纯牛奶")).status_code == 302
    shown = client.get(f"/batches/{batch_id}").data.decode()
    history = shown.split("<tbody>")[-1].split("</tbody>")[0]
    assert f'<td class="changed-by">{user.username}</td><td>实验室更正报告</td>' in history


def test_a_taken_sample_number_says_so_and_links_the_batch_to_amend(client, signed_in, make_user, db_session):
    signed_in("inspector", region="330100")
    batch_id = _record(client)
    token = csrf_token(client, "/batches/new")
    response = client.post("/batches/new", data=_batch_form(token, product="另一产品"))
    assert response.status_code == 422
    page = response.data.decode()
    assert re.search(r'id="sample_no-error">该样品编号已录入；如需更正该批次，请改为更正该批次', page)
    existing = page.split('id="sample_no-existing">', 1)[1].split("</p>", 1)[0]
    assert f'href="/batches/{batch_id}">W0000001</a>' in existing and f'href="/batches/{batch_id}/amend"' in existing
    # An inspector of another region learns the number is taken, but gets no link to the batch.
    client.post("/logout", data={"csrf_token": csrf_token(client, "/")})
    signed_in("inspector", region="330200")
    token = csrf_token(client, "/batches/new")
    response = client.post("/batches/new", data=_batch_form(token, region="330203"))
    page = response.data.decode()
    assert response.status_code == 422 and 'id="sample_no-error">该样品编号已录入' in page
    assert "sample_no-existing" not in page and f"/batches/{batch_id}" not in page


def test_void_needs_a_reason(client, signed_in, db_session):
    signed_in("inspector")
    batch_id = _record(client)
    token = csrf_token(client, f"/batches/{batch_id}")
    assert client.post(f"/batches/{batch_id}/void", data={"csrf_token": token, "version": "1",
                                                           "reason": ""}).status_code == 422
    assert db_session.get(Batch, batch_id).voided_at is None
    assert client.post(f"/batches/{batch_id}/void", data={"csrf_token": token, "version": "1",
                                                          "reason": "重复录入"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Batch, batch_id).void_reason == "重复录入"


def _facts(page: str) -> dict[str, str]:
    """The batch page's facts as label -> text (tags stripped)."""
    facts = page.split('<dl class="facts">', 1)[1].split("</dl>", 1)[0]
    return {dt: re.sub(r"<[^>]+>", "", dd).strip()
            for dt, dd in re.findall(r"<dt>([^<]*)</dt><dd[^>]*>(.*?)</dd>", facts, re.S)}


def test_the_batch_page_shows_every_recorded_field_under_the_forms_label(client, signed_in, db_session):
    signed_in("inspector")
    batch_id = _record(client, brand="示例", specification="250mL/盒", lot="20250301", production_date="2025-03-01",
                       stage="distribution", sampling_agency="西湖区市场监督管理局", laboratory="杭州市食品药品检验研究院",
                       report_no="BG2025-0001")
    facts = _facts(client.get(f"/batches/{batch_id}").data.decode())
    assert {label: facts.get(label) for label in (
        "生产企业名称", "生产企业统一社会信用代码", "产品名称", "商标", "规格型号", "批号", "生产日期", "抽样环节",
        "抽样单位", "检验机构", "报告编号")} == {
        "生产企业名称": "杭州示例乳业有限公司", "生产企业统一社会信用代码": VALID_CODE, "产品名称": "纯牛奶",
        "商标": "示例", "规格型号": "250mL/盒", "批号": "20250301", "生产日期": "2025年3月1日", "抽样环节": "流通",
        "抽样单位": "西湖区市场监督管理局", "检验机构": "杭州市食品药品检验研究院", "报告编号": "BG2025-0001"}
    # Fields left blank are marked as not given, not left out unseen nor run together.
    bare = _facts(client.get(f"/batches/{_record(client, sample_no='W0000002', stage='')}").data.decode())
    assert bare["商标"] == bare["批号"] == bare["抽样环节"] == bare["抽样单位"] == "（未填写）"

BATCH_LINK = re.compile(r'href="/batches/\d+"')


def test_batch_list_searches_filters_pages_and_keeps_to_the_region(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    load(db_session, admin.id, csv_rows("330106", "2025-03", 30, 2) + csv_rows("330212", "2025-03", 5, 0))
    signed_in("inspector", region="330100")
    page = client.get("/batches").data.decode()
    assert len(BATCH_LINK.findall(page)) == 25 and 'rel="next"' in page
    following = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert len(BATCH_LINK.findall(client.get(following).data.decode())) == 5
    failing = client.get("/batches?conclusion=fail").data.decode()
    assert len(BATCH_LINK.findall(failing)) == 2
    first_no = db_session.scalar(select(Batch.sample_no).where(Batch.region_code == "330106").limit(1))
    assert len(BATCH_LINK.findall(client.get(f"/batches?search={first_no}").data.decode())) == 1
    ningbo = db_session.scalar(select(Batch.id).where(Batch.region_code == "330212").limit(1))
    assert client.get(f"/batches/{ningbo}").status_code == 404


IMPORT_HEADER = "sample_no,sampled_on,category,region,result\n"


def test_upload_reports_the_bad_row(client, signed_in, db_session):
    signed_in("inspector")
    content = IMPORT_HEADER + f"U1,2025-03-01,{MILK},330106,pass\nU2,2025-13-01,{MILK},330106,pass\n"
    token = csrf_token(client, "/batches/import")
    response = client.post("/batches/import", data={"csrf_token": token,
                                                    "file": (io.BytesIO(content.encode()), "batches.csv")},
                           content_type="multipart/form-data")
    page = response.data.decode()
    assert response.status_code == 200
    row = re.search(r'<table class="rejections">.*?<tbody><tr><td>(\d+)</td><td>(\w+)</td>', page, re.S)
    assert row.groups() == ("3", "sampled_on")  # the file's third line (after the header)
    assert db_session.scalar(select(func.count()).select_from(Batch)) == 1


def test_upload_report_counts_rejected_rows_not_problems(client, signed_in, db_session):
    """Four bad rows, the first with two problems: 4 rows rejected (5 problems), not 5."""
    user = signed_in("inspector")
    content = IMPORT_HEADER + (f"V1,2025-13-01,no.such,330106,pass\nV2,2025-03-01,no.such,330106,pass\n"
                               f"V3,2025-03-01,{MILK},999999,pass\nV4,2025-03-01,{MILK},330106,maybe\n")
    token = csrf_token(client, "/batches/import")
    page = client.post("/batches/import", data={"csrf_token": token,
                                                "file": (io.BytesIO(content.encode()), "batches.csv")},
                       content_type="multipart/form-data").data.decode()
    assert re.search(r'class="rejected">4</strong>\s*<span class="problems">（5 个问题）</span>', page), page
    assert len(re.findall(r"<tr><td>\d+</td>", page)) == 5
    # A queued import's report kept from before `rejected_rows` existed: its rows are counted.
    old = Job(kind="import_batches", params={"filename": "old.csv"}, created_by_id=user.id, status="done",
              result={"accepted": 0, "unchanged": 0, "stored": True, "import_id": None,
                      "rejected": [{"row": 2, "column": "a", "reason": "x"}, {"row": 2, "column": "b", "reason": "y"},
                                   {"row": 3, "column": "a", "reason": "x"}]})
    db_session.add(old)
    db_session.commit()
    assert re.search(r'class="rejected">2</strong>', client.get(f"/batches/import/jobs/{old.id}").data.decode())


def _rejections(page: str) -> list[tuple[str, str, str]]:
    return re.findall(r"<tr><td>(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", page)


def test_the_import_report_names_columns_by_the_files_headers_and_the_size_limit_in_mb(
        app, client, signed_in, make_user, db_session, monkeypatch):
    from tests.conftest import make_code

    monkeypatch.setitem(app.config, "IMPORT_ASYNC_BYTES", 2 * 1024 * 1024)  # as configured outside tests
    user = signed_in("inspector")
    unregistered = make_code("91330106MA2B3C4E6")
    content = ("抽样单编号,抽样日期,产品类别,抽样地区,检验结论,统一社会信用代码\n"
               f",2025-03-01,{MILK},330106,合格,\nC2,2025-03-01,{MILK},330106,合格,{unregistered}\n")
    token = csrf_token(client, "/batches/import")
    page = client.post("/batches/import", data={"csrf_token": token,
                                                "file": (io.BytesIO(content.encode()), "batches.csv")},
                       content_type="multipart/form-data").data.decode()
    assert _rejections(page) == [("2", "抽样单编号", "必须填写 抽样单编号"),
                                 ("3", "生产企业名称", f"企业 {unregistered} 尚未登记；请填写 生产企业名称 以登记该企业")]
    # The limit is 2 MiB: said as 2 MB, not as 2.1 MB (2,097,152 bytes in units of 1,000,000).
    assert "超过 2 MB 的文件在后台导入" in page
    # The API's report keeps the column names, in the columns and in the reasons.
    _, bearer = make_user("inspector")
    api = client.post("/api/batches/import", data={"file": (io.BytesIO(content.encode()), "again.csv")},
                      headers=bearer, content_type="multipart/form-data").json
    assert [(r["column"], r["reason"]) for r in api["rejected"]] == [
        ("sample_no", "sample_no is required"),
        ("enterprise_name", f"enterprise {unregistered} is not registered; give enterprise_name to register it")]
    # A report kept before reports carried the file's headers: Chinese headers on a Chinese page,
    # column names on an English one.
    old = Job(kind="import_batches", params={"filename": "old.csv"}, created_by_id=user.id, status="done",
              result={"accepted": 0, "unchanged": 0, "stored": True, "import_id": None, "rejected_rows": 1,
                      "rejected": [{"row": 2, "column": "sampled_on", "reason": "sampled_on is required"}]})
    db_session.add(old)
    db_session.commit()
    assert _rejections(client.get(f"/batches/import/jobs/{old.id}").data.decode()) == [
        ("2", "抽样日期", "必须填写 抽样日期")]
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en", "next": "/"})
    assert _rejections(client.get(f"/batches/import/jobs/{old.id}").data.decode()) == [
        ("2", "sampled_on", "sampled_on is required")]


def test_import_page_lists_the_columns_the_codes_and_offers_a_template(client, signed_in, db_session):
    signed_in("inspector", region="330100")
    page = client.get("/batches/import").data.decode()
    # Every column with its Chinese header, required or not, meaning and format in Chinese.
    rows = re.findall(r"<tr><td><code>(\w+)</code></td><td>([^<]+)</td><td>([^<]+)</td><td>([^<]+)</td>"
                      r"<td>([^<]+)</td></tr>", page)
    assert [r[0] for r in rows][:5] == ["sample_no", "sampled_on", "category", "region", "result"] and len(rows) == 19
    assert rows[0][1:] == ("抽样单编号", "必填", "抽样单编号，不得重复", "文本，最多 64 个字符")
    assert rows[5][1:3] == ("报告日期", "选填")
    assert '<td><code>food.biscuit</code></td><td>\u3000饼干</td>' in page
    assert '<td><code>330106</code></td><td>\u3000西湖区</td>' in page
    assert "<code>330212</code>" not in page  # Ningbo: not the inspector's region
    assert 'href="/batches/import/template?format=xlsx"' in page and 'href="/batches/import/template?format=csv"' in page
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en", "next": "/"})
    page = client.get("/batches/import").data.decode()
    assert "<td>sample number, unique</td><td>text, up to 64 characters</td>" in page


def test_the_downloaded_template_imports_as_it_is(client, signed_in, db_session):
    """Both formats, with Chinese headers on a Chinese page and English ones on an English page."""
    signed_in("inspector", region="330106")
    csv_file = client.get("/batches/import/template?format=csv")
    assert csv_file.headers["Content-Disposition"] == 'attachment; filename="import-template.csv"'
    header, example = csv_file.data.decode("utf-8-sig").splitlines()
    assert header.startswith("抽样单编号,抽样日期,产品类别,抽样地区,检验结论,") and ",合格," in example
    book = load_workbook(io.BytesIO(client.get("/batches/import/template").data))
    cells = [[c.value for c in row] for row in book.active.iter_rows()]
    assert cells[0][:2] == ["抽样单编号", "抽样日期"] and cells[1][1].date() == date(2025, 3, 10)
    client.post("/language", data={"csrf_token": csrf_token(client, "/"), "lang": "en", "next": "/"})
    english = client.get("/batches/import/template?format=csv").data.decode("utf-8-sig")
    assert english.startswith("sample_no,sampled_on,category,region,result,") and ",pass," in english
    for name, content in (("template.xlsx", client.get("/batches/import/template").data),
                          ("template.csv", english.encode())):
        db_session.query(Batch).delete()
        db_session.commit()
        token = csrf_token(client, "/batches/import")
        page = client.post("/batches/import", data={"csrf_token": token, "file": (io.BytesIO(content), name)},
                           content_type="multipart/form-data").data.decode()
        assert re.search(r'class="accepted">1<', page) and re.search(r'class="rejected">0<', page), (name, page)
    stored = db_session.scalar(select(Batch))
    assert (stored.sample_no, stored.stage, stored.lot) == ("SP20250310-0001", "distribution", "20250301")


def test_refused_file_is_said_next_to_the_file_field(client, signed_in, db_session):
    signed_in("inspector")
    token = csrf_token(client, "/batches/import")
    response = client.post("/batches/import", data={"csrf_token": token,
                                                    "file": (io.BytesIO(b"colour,size\nred,1\n"), "odd.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 422
    assert re.search(r'id="file-error">未知的列：colour、size；允许的列：sample_no、', response.data.decode())


def test_large_upload_runs_as_a_job_with_progress(app, client, signed_in, db_session):
    signed_in("inspector")
    rows = "".join(f"L{i:06d},2025-03-01,{MILK},330106,pass\n" for i in range(3000))
    assert len(rows) > app.config["IMPORT_ASYNC_BYTES"]
    token = csrf_token(client, "/batches/import")
    response = client.post("/batches/import", data={"csrf_token": token,
                                                    "file": (io.BytesIO((IMPORT_HEADER + rows).encode()), "big.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 302 and "/batches/import/jobs/" in response.headers["Location"]
    page = client.get(response.headers["Location"]).data.decode()
    assert "<progress" in page and "data-progress-url" in page
    job_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.get(f"/batches/import/jobs/{job_id}/progress").json["status"] == "queued"
    run_job(db_session, db_session.get(Job, job_id))
    assert client.get(f"/batches/import/jobs/{job_id}/progress").json == {
        "status": "done", "progress": 3000, "total": 3000}
    done = client.get(f"/batches/import/jobs/{job_id}").data.decode()
    assert "<progress" not in done and re.search(r'class="accepted">3,000<', done)


def test_someone_elses_job_is_not_shown(client, signed_in, make_user, db_session):
    other, _ = make_user("inspector")
    job = Job(kind="import_batches", params={"filename": "x.csv"}, created_by_id=other.id)
    db_session.add(job)
    db_session.commit()
    signed_in("inspector")
    assert client.get(f"/batches/import/jobs/{job.id}").status_code == 404
    assert client.get(f"/batches/import/jobs/{job.id}/progress").status_code == 404


def test_dashboard_colours_cells_by_the_gap_to_the_floor(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    # Liquid milk (floor 0.93): Hangzhou 18/20 = 90% (3 points below), Ningbo 20/20.
    load(db_session, admin.id, csv_rows("330106", "2025-03", 20, 2) + csv_rows("330212", "2025-03", 20, 0))
    signed_in("supervisor")
    page = client.get(f"/supervision/dashboard?period=month&at=2025-03&category={MILK}").data.decode()
    hangzhou = re.search(r'<td class="cell (\w+)"><a href="/supervision/series\?category=food.dairy.liquid_milk'
                         r'&amp;region=330100"[^>]*>([^<]+)</a>', page)
    ningbo = re.search(r'<td class="cell (\w+)"><a href="/supervision/series\?category=food.dairy.liquid_milk'
                       r'&amp;region=330200"[^>]*>([^<]+)</a>', page)
    assert hangzhou.groups() == ("below", "90.0%") and ningbo.groups() == ("ok", "100.0%")
    assert 'class="cell none"' in page  # cities without batches
    odd = client.get("/supervision/dashboard?period=quarter&at=2025-13").data.decode()
    assert "无法识别周期" in odd
    # Switching the period with the field still holding the other period's value: its last part
    for query, shown in (("period=quarter&at=2025", 'value="2025-Q4"'), ("period=month&at=2025-Q1", 'value="2025-03"'),
                         ("period=year&at=2025-03", 'value="2025"')):
        page = client.get(f"/supervision/dashboard?{query}").data.decode()
        assert "无法识别周期" not in page and shown in page, query


def test_the_dashboard_shows_the_way_back_up_within_the_users_region(client, signed_in, db_session):
    signed_in("supervisor", region="330100")  # Hangzhou

    page = client.get(f"/supervision/dashboard?region=330106&category={MILK}").data.decode()

    regions = re.search(r'<ol id="region-trail">(.*?)</ol>', page, re.S).group(1)
    assert re.findall(r'<a href="([^"]+)">([^<]+)</a>', regions) == [
        (f"/supervision/dashboard?period=year&amp;at={local_today().year}&amp;category={MILK}&amp;region=330100",
         "杭州市")]  # the province is above this user's region: not offered
    assert '<span aria-current="page">西湖区</span>' in regions
    categories = re.search(r'<ol id="category-trail">(.*?)</ol>', page, re.S).group(1)
    assert [name for name in re.findall(r">([^<>]+)</(?:a|span)>", categories)] == \
        ["全部产品", "食品", "乳制品", "液体乳"]
    assert 'id="region-trail"' not in client.get("/supervision/dashboard").data.decode()  # at the top already


def test_gap_classes():
    from web.supervision import gap_class

    assert [gap_class(g) for g in (None, 0.05, 0.02, 0.0, -0.01, -0.05, -0.06)] == \
        ["none", "ok", "ok", "near", "below", "below", "far"]


def test_series_page_carries_the_chart_data_and_reasons(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    load(db_session, admin.id, csv_rows("330106", "2025-05", 20, 0) + csv_rows("330106", "2025-06", 20, 4))
    seed_alert(db_session, MILK, "330106")
    signed_in("supervisor", region="330100")
    page = client.get(f"/supervision/series?category={MILK}&region=330106").data.decode()
    assert "近三个月合格率低于底线" in page and "plotly.min.js" in page
    chart = re.search(r'data-chart="([^"]+)"', page).group(1)
    import html
    import json

    data = json.loads(html.unescape(chart))
    assert data["months"] == ["2025年5月", "2025年6月"] and data["rate"] == [1.0, 0.8]
    assert data["floor"] == [0.93, 0.93] and data["forecast"]["months"] == ["2025年7月"]
    assert data["locale"]["dictionary"]["Zoom in"] == "放大"  # plotly's toolbar in the page's language
    assert 0.58 < data["low"][1] < 0.8 < data["high"][1] < 0.93  # Wilson interval of 16/20
    assert client.get(f"/supervision/series?category={MILK}&region=330212").status_code == 404  # out of scope


def test_plotly_is_served_locally_compressed_to_browsers_that_accept_it(client, db_session):
    import gzip

    plain = client.get("/web-static/vendor/plotly.min.js")
    assert plain.status_code == 200 and b"plotly" in plain.data[:2000].lower()
    assert "Content-Encoding" not in plain.headers

    packed = client.get("/web-static/vendor/plotly.min.js", headers={"Accept-Encoding": "gzip, deflate, br"})
    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert len(packed.data) < len(plain.data) / 2 and gzip.decompress(packed.data) == plain.data
    again = client.get("/web-static/vendor/plotly.min.js",
                       headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]})
    assert again.status_code == 304


def test_alert_actions(client, signed_in, db_session):
    alert = seed_alert(db_session, MILK, "330106")
    user = signed_in("supervisor", region="330100")
    inbox = client.get("/supervision/alerts").data.decode()
    assert f'href="/supervision/alerts/{alert.id}"' in inbox
    token = csrf_token(client, f"/supervision/alerts/{alert.id}")
    refused = client.post(f"/supervision/alerts/{alert.id}/dismiss", data={"csrf_token": token, "note": ""})
    assert "撤销预警须填写理由" in client.get(refused.headers["Location"]).data.decode()
    too_long = client.post(f"/supervision/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "note": "长" * 1001})
    shown = client.get(too_long.headers["Location"]).data.decode()
    assert "1000" in shown and "表单已过期" not in shown  # the API's limit, named; not "the form expired"
    assert client.post(f"/supervision/alerts/{alert.id}/acknowledge",
                       data={"csrf_token": token, "note": "已通知县局"}).status_code == 302
    db_session.expire_all()
    stored = db_session.get(Alert, alert.id)
    assert stored.status == "acknowledged" and stored.events[-1].user_id == user.id
    assert stored.events[-1].note == "已通知县局"
    again = client.post(f"/supervision/alerts/{alert.id}/acknowledge", data={"csrf_token": token})
    assert "预警状态已变化" in client.get(again.headers["Location"]).data.decode()


def test_a_dismissal_on_the_page_holds_as_long_as_configured(app, client, signed_in, db_session, monkeypatch):
    alert = seed_alert(db_session, MILK, "330106")
    signed_in("supervisor", region="330100")
    monkeypatch.setitem(app.config, "ALERT_DISMISS_SNOOZE_DAYS", 7.0)
    token = csrf_token(client, f"/supervision/alerts/{alert.id}")
    assert client.post(f"/supervision/alerts/{alert.id}/dismiss",
                       data={"csrf_token": token, "note": "样品登记错误"}).status_code == 302
    db_session.expire_all()
    stored = db_session.get(Alert, alert.id)
    assert stored.status == "dismissed" and (stored.dismissed_until - stored.updated_at).days == 7


def test_the_alert_page_says_why_and_which_months_its_probability_is_about(client, signed_in, db_session):
    # A supervisor reading "91%" must see what it is the chance of, and the reason behind the
    # level, without opening the series.
    alert = seed_alert(db_session, MILK, "330106")
    signed_in("supervisor", region="330100")
    page = client.get(f"/supervision/alerts/{alert.id}").data.decode()
    assert "<dt>未来1个月低于底线的概率</dt><dd>91.0%</dd>" in page
    assert '<dt>原因</dt><dd class="reasons">近三个月合格率低于底线</dd>' in page
    series = client.get(f"/supervision/series?category={MILK}&region=330106").data.decode()
    assert "未来1个月低于底线的概率: 91.0%" in series
    # The forecast band starts from the pooled estimate, which the page names with its interval.
    hint = series.split('id="forecast-hint">', 1)[1].split("</p>", 1)[0]
    assert "合并估计的当前合格率 80.0%（70.0% – 88.0%）" in hint


def test_the_alert_history_names_who_acted_and_the_page_leads_back_to_the_inbox(client, signed_in, db_session):
    alert = seed_alert(db_session, MILK, "330106")
    user = signed_in("supervisor", region="330100")
    token = csrf_token(client, f"/supervision/alerts/{alert.id}")
    done = client.post(f"/supervision/alerts/{alert.id}/acknowledge", data={"csrf_token": token, "note": "已通知县局"})
    page = client.get(done.headers["Location"]).data.decode()
    history = page.split('<ol class="events">', 1)[1].split("</ol>", 1)[0]
    assert f'已通知县局 · <span class="actor">{user.username}</span>' in history
    assert '<span class="actor">预警扫描</span>' in history  # the scan raised it, nobody in particular
    assert '<a id="back-to-inbox" href="/supervision/alerts">' in page


def test_escalating_from_the_alert_page_notifies_the_subscribers(client, signed_in, db_session, make_user):
    from warning.notify.models import OutboxMessage
    from warning.notify.services import create_subscription

    alert = seed_alert(db_session, MILK, "330106")
    chief, _ = make_user("supervisor", region="330100")
    sub = create_subscription(db_session, {"email": "chief@example.test", "region_code": "330100"}, chief.id,
                              "330100")
    user = signed_in("supervisor", region="330106")
    token = csrf_token(client, f"/supervision/alerts/{alert.id}")
    assert client.post(f"/supervision/alerts/{alert.id}/escalate",
                       data={"csrf_token": token, "note": "涉及跨区经营企业"}).status_code == 302
    [row] = db_session.scalars(select(OutboxMessage)).all()
    assert (row.address, row.payload["reason"], row.payload["escalated_by"]["id"]) == (
        sub.email, "涉及跨区经营企业", user.id)
    assert row.payload["alerts"][0]["reason_zh"] == "近三个月合格率低于底线"


def test_alerts_outside_the_region_are_hidden(client, signed_in, db_session):
    alert = seed_alert(db_session, MILK, "330212")
    signed_in("supervisor", region="330100")
    assert f"/supervision/alerts/{alert.id}" not in client.get("/supervision/alerts").data.decode()
    assert client.get(f"/supervision/alerts/{alert.id}").status_code == 404


def test_attainment_report_page_and_xlsx(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    load(db_session, admin.id, csv_rows("330106", "2024-05", 20, 0) + csv_rows("330106", "2025-05", 20, 4))
    signed_in("supervisor")
    page = client.get("/reports/attainment?year=2025").data.decode()
    assert "2025 年度目标达成情况" in page and "80.0%" in page and "-20.0" in page
    xlsx = client.get("/reports/attainment?year=2025&format=xlsx")
    assert xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(xlsx.data)).active
    header = [c.value for c in sheet[1]]
    assert header[:4] == ["地区", "地区代码", "类别", "类别代码"] and "合格率" in header
    hangzhou_food = next(r for r in sheet.iter_rows(min_row=2) if r[1].value == "330100" and r[3].value == "food")
    cell = {name: c for name, c in zip(header, hangzhou_food)}
    assert cell["地区"].value == "杭州市" and cell["类别"].value == "食品"
    assert cell["合格率"].value == pytest.approx(0.8) and cell["合格率"].number_format == "0.0%"
    assert cell["上年"].value == pytest.approx(1.0) and cell["是否达标"].value == "否"
    assert cell["变化（百分点）"].value == pytest.approx(-20.0)


def test_empty_years_and_periods_say_so_and_a_bad_year_is_named(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    load(db_session, admin.id, csv_rows("330106", "2025-05", 20, 0))
    signed_in("supervisor")
    empty = client.get("/reports/attainment?year=2020").data.decode()
    assert '<p class="flash info" id="no-data">本地区 2020 年没有抽检数据。</p>' in empty
    assert "report-section" not in empty and "0 个类别中" not in empty
    odd = client.get("/reports/attainment?year=abc").data.decode()
    assert "无法识别年份 abc" in odd
    grid = client.get("/supervision/dashboard?period=year&at=2030").data.decode()
    assert 'id="no-data">本地区在 2030 没有抽检批次。' in grid and "n=0" not in grid and 'id="dashboard"' not in grid
    assert 'id="dashboard"' in client.get("/supervision/dashboard?period=year&at=2025").data.decode()


def test_points_never_show_negative_zero(app):
    from web.i18n import points

    with app.test_request_context():
        assert points(-0.0001) == "0.0" and points(-0.0) == "0.0" and points(0.0004) == "0.0"
        assert points(-0.2) == "-20.0" and points(0.012) == "+1.2"


def test_attainment_report_keeps_to_the_region(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    load(db_session, admin.id, csv_rows("330106", "2025-05", 20, 4))
    signed_in("supervisor", region="330200")  # Ningbo
    page = client.get("/reports/attainment?year=2025&region=330100").data.decode()
    assert "80.0%" not in page and "该地区暂无可报告的数据" in page
    own = client.get("/reports/attainment?year=2025").data.decode()
    assert "宁波市" in own and "杭州市" not in own


def test_admin_pages(client, signed_in, db_session):
    me = signed_in("admin")
    token = csrf_token(client, "/admin/users")
    created = client.post("/admin/users", data={"csrf_token": token, "username": "li", "password": "long enough pw",
                                                "roles": ["agency"], "region": "330100"})
    assert created.status_code == 302
    taken = client.post("/admin/users", data={"csrf_token": token, "username": "li", "password": "long enough pw",
                                              "roles": ["agency"], "region": "330100"})
    assert taken.status_code == 422 and 'id="username-error">用户名已被占用：用户“li”已存在' in taken.data.decode()
    same_but_case = client.post("/admin/users", data={"csrf_token": token, "username": "LI", "password": "long enough pw",
                                                      "roles": ["agency"], "region": "330100"})
    assert same_but_case.status_code == 422 and "用户“li”已存在" in same_but_case.data.decode()
    from core.auth.models import User

    li = db_session.scalar(select(User).where(User.username == "li"))
    assert client.post(f"/admin/users/{li.id}", data={"csrf_token": token, "roles": ["agency", "supervisor"],
                                                      "region": "330100"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(User, li.id).roles == {"agency", "supervisor"} and not db_session.get(User, li.id).active
    floor = client.post("/admin/floors", data={"csrf_token": token, "category": MILK, "floor": "95.7",
                                               "effective_from": "2026-01-01", "note": "新规" * 120})
    assert floor.status_code == 302 and "95.7%" in client.get("/admin/floors").data.decode()
    assert db_session.scalar(select(CategoryFloor.floor).where(CategoryFloor.effective_from == date(2026, 1, 1))) == 0.957
    assert client.post("/admin/floors", data={"csrf_token": token, "category": MILK, "floor": "sNaN",
                                              "effective_from": "2026-02-01"}).status_code == 422
    audit = client.get(f"/admin/audit?user_id={me.id}&entity=floor").data.decode()
    assert audit.count("<tr><td>") == 1 and "floor" in audit


def test_the_audit_log_reads_as_words_with_names_links_and_the_fields_changed(client, signed_in, db_session):
    inspector = signed_in("inspector", region="330106")
    batch_id = _record(client)
    token = csrf_token(client, f"/batches/{batch_id}/amend")
    amended = _batch_form(token, version="1", reason="实验室更正报告", product="高钙纯牛奶")
    assert client.post(f"/batches/{batch_id}/amend", data=amended).status_code == 302
    signed_in("admin")

    page = client.get(f"/admin/audit?user={inspector.username.upper()}&action=amend").data.decode()

    rows = re.findall(r"<tr><td>\d+</td>.*?</details>", page, re.S)
    assert len(rows) == 1
    row = rows[0]
    assert f">{inspector.username}</a>" in row and ">已更正<" in row
    assert f'<a href="/batches/{batch_id}">{batch_id}</a>' in row and "批次" in row
    changed = {code: (label, before, after) for code, label, before, after in re.findall(
        r'<tr class="change"><td title="(\w+)">([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>', row)}
    assert changed["product"] == ("产品名称", "纯牛奶", "高钙纯牛奶") and "region_code" not in changed  # only what changed
    assert "没有符合条件的记录" in client.get("/admin/audit?user=no-such-user").data.decode()
    # Codes read as the pages' words: a status, a yes/no, a time in Beijing time
    alert = seed_alert(db_session, MILK, "330106")
    token = csrf_token(client, f"/supervision/alerts/{alert.id}")
    client.post(f"/supervision/alerts/{alert.id}/dismiss", data={"csrf_token": token, "note": "样品登记错误"})
    page = client.get("/admin/audit?entity=alert&action=dismiss").data.decode()
    cells = dict((code, (before, after)) for code, _label, before, after in re.findall(
        r'<tr class="change"><td title="(\w+)">([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>', page))
    assert cells["status"] == ("待处理", "已撤销"), cells
    assert re.fullmatch(r"\d{4}年\d{1,2}月\d{1,2}日 \d{2}:\d{2}:\d{2}", cells["dismissed_until"][1]), cells


def test_audit_log_pages_back(client, signed_in, db_session):
    from core.audit import audit

    signed_in("admin")
    for i in range(60):
        audit(db_session, None, "probe", "thing", i)
    db_session.commit()
    page = client.get("/admin/audit?entity=thing").data.decode()
    assert page.count("<tr><td>") == 50
    following = re.search(r'href="([^"]+)" rel="next"', page).group(1).replace("&amp;", "&")
    assert client.get(following).data.decode().count("<tr><td>") == 10


def test_language_switch_is_kept(client, signed_in, db_session):
    page = client.get("/login").data.decode()
    assert '<html lang="zh-CN">' in page and "登录" in page
    token = csrf_token(client)
    switched = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "/login"})
    assert switched.status_code == 302 and "lang=en" in switched.headers["Set-Cookie"]
    page = client.get("/login").data.decode()
    assert '<html lang="en">' in page and "Sign in" in page
    signed_in("inspector")  # the choice outlives signing in
    batch_id = _record(client)
    assert "Mar 10, 2025" in client.get(f"/batches/{batch_id}").data.decode()
    refused = client.post("/language", data={"lang": "zh_CN", "next": "/"})  # no CSRF token: unchanged
    assert "Set-Cookie" not in refused.headers or "lang=" not in refused.headers["Set-Cookie"]


def test_language_next_stays_on_site(client, db_session):
    token = csrf_token(client)
    response = client.post("/language", data={"csrf_token": token, "lang": "en", "next": "//evil.example/x"})
    assert response.headers["Location"] == "/"


def test_series_page_says_what_its_assessment_counted(client, signed_in, make_user, db_session):
    admin, _ = make_user("admin")
    alert = seed_alert(db_session, MILK, "330106")  # a scan as of 2025-06
    db_session.get(Scan, alert.last_scan_id).finished_at = datetime(2025, 7, 1, 3, 0, tzinfo=timezone.utc)
    db_session.commit()
    # A month the scan did not assess, reported after it ran: in the table, not in the assessment.
    load(db_session, admin.id, csv_rows("330106", "2025-07", 3, 1))
    signed_in("supervisor", region="330100")
    page = client.get(f"/supervision/series?category={MILK}&region=330106").data.decode()
    assert "2025年7月" in page  # the table's row
    assert re.search(r"依据扫描运行时（[^）]*2025[^）]*）已知的、截至 2025年6月 的批次评估", page), page
    inbox = client.get("/supervision/alerts").data.decode()
    assert "预警等级把概率与规模相近" in inbox and "红色：当前合格率已确定低于底线" in inbox
    assert "最近一次扫描的风险模型" not in inbox  # that scan was classical: no base rate to give
    # A scan with a risk model: the inbox gives the rate its probabilities are to be read against.
    scan = db_session.get(Scan, alert.last_scan_id)
    scan.settings = {"model": {"version": "sklearn-hgb-2025-03-x", "rows": 80064, "positive_share": 0.0327,
                               "label_months": ["2024-04", "2025-03"]}}
    db_session.commit()
    inbox = client.get("/supervision/alerts").data.decode()
    assert ("最近一次扫描的风险模型学习了本省 80,064 个系列月（2024年4月至2025年3月）的历史，其中 3.3% "
            "在随后三个月超出偶然波动地低于底线") in inbox


def test_the_inbox_shows_the_most_severe_alert_first_unless_asked_for_the_latest(client, signed_in, db_session):
    red = seed_alert(db_session, MILK, "330106", level="red")
    yellow = seed_alert(db_session, MILK, "330212", level="yellow")  # changed later
    signed_in("supervisor")

    def listed(query: str = "") -> list[int]:
        page = client.get(f"/supervision/alerts{query}").data.decode()
        return [int(i) for i in re.findall(r'href="/supervision/alerts/(\d+)"', page)]

    assert listed() == [red.id, yellow.id]
    assert listed("?sort=-updated_at") == [yellow.id, red.id]
    assert 'value="-updated_at" selected' in client.get("/supervision/alerts?sort=-updated_at").data.decode()


def test_a_batch_list_date_that_is_not_a_date_is_named_not_ignored(client, signed_in, db_session):
    signed_in("inspector")
    page = client.get("/batches?sampled_from=2026-02-30").data.decode()
    assert "无法识别日期 2026-02-30，列表未按该日期筛选。" in page


def test_a_new_worker_compresses_plotly_before_its_first_chart(app):
    from core.warmup import warm_up
    from web.charts import plotly_gzipped

    plotly_gzipped.cache_clear()
    warm_up(app)  # gunicorn's post_worker_init
    assert plotly_gzipped.cache_info().currsize == 1


def test_the_landing_page_says_what_needs_attention_in_the_users_region(client, make_user, db_session):
    from tests.followup_data import record_failed

    _, admin_h = make_user("admin")
    record_failed(client, admin_h, reported=local_today() - timedelta(days=200))  # Xihu: disposal overdue
    record_failed(client, admin_h, reported=local_today() - timedelta(days=400), region="330203")  # Ningbo
    this_month = local_today().replace(day=1).isoformat()
    assert client.post("/api/batches", headers=admin_h,
                       json=batch_payload(sampled_on=this_month, reported_on=this_month)).status_code == 201
    seed_alert(db_session, MILK, "330106", "red")
    seed_alert(db_session, MILK, "330102", "orange")
    seed_alert(db_session, MILK, "330105", "yellow", status="dismissed")  # no longer handled
    seed_alert(db_session, MILK, "330203", "yellow")

    def attention(roles, region):
        user, _ = make_user(*roles, region=region)
        assert sign_in(client, user.username).status_code == 302
        page = client.get("/").data.decode()
        return {m.group(1): re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", m.group(2))).strip()
                for m in re.finditer(r'<li id="attention-(\w+)">(.*?)</li>', page, re.S)}

    hangzhou = attention(("supervisor", "agency"), "330100")
    assert "红色 1 · 橙色 1 · 黄色 0 · 蓝色 0" in hangzhou["alerts"] and "最近一次扫描截至 2025年6月" in hangzhou["alerts"]
    assert hangzhou["disposals"] == "不合格批次核查处置: 已逾期 1 · 即将到期 0" and hangzhou["cases"].endswith("0")
    assert re.search(r"\d{4}年\d{1,2}月 1 批（不合格 0 批）", hangzhou["batches"])  # this month's batch
    ningbo = attention(("supervisor",), "330200")
    assert "红色 0 · 橙色 0 · 黄色 1" in ningbo["alerts"] and "已逾期 1" in ningbo["disposals"]
    assert re.search(r"\d{4}年\d{1,2}月 0 批（不合格 0 批）", ningbo["batches"])
    # An inspector has no follow-up pages: no follow-up figures either
    assert set(attention(("inspector",), "330106")) == {"batches", "alerts"}
