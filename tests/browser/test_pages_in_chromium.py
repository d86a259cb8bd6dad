"""Each role's work in a real browser (Chromium): forms, uploads, the chart, alert triage."""
from __future__ import annotations

import re

from playwright.sync_api import expect
from sqlalchemy import select

from core.jobs import Job, run_job
from inspection.models import Batch
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import VALID_CODE
from tests.series_data import MILK, csv_rows, load
from tests.web_helpers import seed_alert
from warning.models import Alert

IMPORT_HEADER = "sample_no,sampled_on,category,region,result\n"
MENUS = {
    "inspector": ({"抽检批次", "录入批次", "文件导入", "监测看板"}, {"用户与角色", "审计日志"}),
    "supervisor": ({"监测看板", "预警信息", "年度目标达成情况"}, {"录入批次", "用户与角色"}),
    "agency": ({"抽检批次", "预警信息"}, {"录入批次", "用户与角色"}),
    "admin": ({"录入批次", "用户与角色", "类别合格率底线", "审计日志"}, set()),
}


def test_each_role_signs_in_and_opens_its_pages(open_page, make_user):
    for role, (shown, hidden) in MENUS.items():
        user, _ = make_user(role, username=f"b-{role}")
        page = open_page()
        sign_in(page, user.username)
        menu = page.get_by_role("navigation", name="主菜单")
        labels = set(menu.get_by_role("link").all_inner_texts())
        assert shown <= labels and not (hidden & labels), (role, labels)
        hrefs = [a.get_attribute("href") for a in menu.get_by_role("link").all()]
        for href in hrefs:  # every page the menu offers opens without error
            response = page.goto(href)
            assert response.status == 200, (role, href)
        page.context.close()


def test_inspector_records_a_batch(open_page, make_user, db_session):
    make_user("inspector", region="330100", username="insp")
    page = open_page(viewport=(820, 1180))  # a tablet, upright
    sign_in(page, "insp")
    page.goto("/batches/new")
    page.get_by_role("button", name="保存批次").click()
    expect(page.locator("#sample_no-error")).to_contain_text("此项为必填")  # next to its field
    page.get_by_label("抽样单编号").fill("B0000001")
    page.get_by_label("抽样日期").fill("2025-03-10")
    page.get_by_label("产品类别").select_option(MILK)
    page.get_by_label("抽样地区").select_option("330106")
    page.get_by_label("生产企业统一社会信用代码").fill(VALID_CODE)
    page.get_by_label("生产企业名称").fill("杭州示例乳业有限公司")
    page.get_by_label("结论").select_option("fail")
    rows = page.locator("#items tbody tr")
    expect(rows).to_have_count(3)
    page.get_by_role("button", name="添加检验项目").click()
    expect(rows).to_have_count(4)
    last = rows.nth(3)
    last.get_by_label("检验项目").fill("菌落总数")
    last.get_by_label("单项判定").select_option("fail")
    page.get_by_role("button", name="保存批次").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("批次 B0000001")
    expect(page.get_by_role("alert")).to_contain_text("已录入")
    batch = db_session.scalar(select(Batch).where(Batch.sample_no == "B0000001"))
    assert batch.conclusion == "fail" and [(i.item, i.verdict) for i in batch.items] == [("菌落总数", "fail")]


def test_inspector_uploads_a_file_with_a_bad_row(open_page, make_user):
    make_user("inspector", username="uploader")
    page = open_page()
    sign_in(page, "uploader")
    page.goto("/batches/import")
    content = IMPORT_HEADER + f"F1,2025-03-01,{MILK},330106,pass\nF2,2025-03-02,no.such.category,330106,pass\n"
    page.get_by_label("CSV 或 XLSX 文件").set_input_files(
        {"name": "batches.csv", "mimeType": "text/csv", "buffer": content.encode()})
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator(".report .accepted")).to_have_text("1")
    cells = page.locator("table.rejections tbody tr").first.locator("td").all_inner_texts()
    assert cells[:2] == ["3", "category"] and "no.such.category" in cells[2]


def test_large_upload_shows_its_progress_until_the_report(open_page, make_user, db_session):
    make_user("inspector", username="bulk")
    page = open_page()
    sign_in(page, "bulk")
    page.goto("/batches/import")
    rows = "".join(f"G{i:06d},2025-03-01,{MILK},330106,pass\n" for i in range(3000))
    page.get_by_label("CSV 或 XLSX 文件").set_input_files(
        {"name": "big.csv", "mimeType": "text/csv", "buffer": (IMPORT_HEADER + rows).encode()})
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#job progress")).to_be_visible()
    job_id = int(re.search(r"/jobs/(\d+)", page.url).group(1))
    run_job(db_session, db_session.get(Job, job_id))  # what `flask worker` does
    expect(page.locator(".report .accepted")).to_have_text("3,000")  # the page followed the job
    expect(page.locator("#job")).to_have_count(0)


def test_supervisor_dashboard_series_and_alert(open_page, make_user, db_session):
    admin, _ = make_user("admin")
    load(db_session, admin.id, "".join(csv_rows("330106", f"2025-{m:02d}", 20, 1 if m < 4 else 5) for m in range(1, 7))
         + "".join(csv_rows("330212", f"2025-{m:02d}", 20, 0) for m in range(1, 7)))
    alert = seed_alert(db_session, MILK, "330106")
    make_user("supervisor", username="sup")
    page = open_page()
    sign_in(page, "sup")
    page.goto("/supervision/dashboard?period=year&at=2025&category=food.dairy")
    table = page.locator("#dashboard")
    expect(table.locator("td.cell.far").first).to_be_visible()
    expect(table.locator("td.cell.ok").first).to_be_visible()
    screenshot(page, "dashboard.png")
    page.goto(f"/supervision/series?category={MILK}&region=330106")
    expect(page.locator("#series-chart .main-svg").first).to_be_visible()  # plotly drew the chart
    expect(page.locator(".reasons")).to_contain_text("近三个月合格率低于底线")
    names = page.locator("#series-chart .legendtext").all_text_contents()
    assert {"合格率", "底线", "预测", "预测区间"} <= set(names), names
    # the toolbar in Chinese, and the months as the tables write them
    titles = page.locator("#series-chart .modebar-btn").evaluate_all("bs => bs.map(b => b.getAttribute('data-title'))")
    assert "下载图表（PNG）" in titles and "放大" in titles and not {"Zoom in", "Box Select"} & set(titles), titles
    assert "2025年6月" in page.locator("#series-chart .xtick").all_text_contents()
    screenshot(page, "series.png")
    page.goto("/supervision/alerts")
    page.locator("#alerts").get_by_role("link").first.click()
    page.get_by_label("备注（撤销时必填）").fill("已通知杭州市局")
    page.get_by_role("button", name="确认").click()
    expect(page.locator(".alert-status")).to_have_text("已确认")
    expect(page.locator(".events")).to_contain_text("已通知杭州市局")
    db_session.expire_all()
    assert db_session.get(Alert, alert.id).status == "acknowledged"


def test_language_switch_in_the_header(open_page, make_user):
    make_user("inspector", username="reader")
    page = open_page(viewport=(1024, 768))
    sign_in(page, "reader")
    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("navigation", name="Main menu")).to_contain_text("Batches")
    page.goto("/batches")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    page.get_by_role("button", name="中文").click()
    expect(page.get_by_role("navigation", name="主菜单")).to_contain_text("抽检批次")


def test_the_batch_form_is_walked_by_keyboard_in_its_visual_order(open_page, make_user):
    make_user("inspector", username="keys")
    page = open_page(viewport=(768, 1024))
    sign_in(page, "keys")
    page.goto("/batches/new")
    page.get_by_label("抽样单编号").focus()
    expected = page.evaluate("""() => [...document.querySelectorAll(
        '#batch-form input, #batch-form select, #batch-form textarea, #batch-form button')]
        .filter(el => el.type !== 'hidden').map(el => el.id || el.textContent)""")
    focused = "() => document.activeElement.id || document.activeElement.textContent"
    walked = [page.evaluate(focused)]
    for _ in expected[1:]:
        for _press in range(4):  # a date input takes a Tab stop for each of its parts
            page.keyboard.press("Tab")
            if page.evaluate(focused) != walked[-1]:
                break
        walked.append(page.evaluate(focused))
    assert walked == expected and walked[:4] == ["sample_no", "sampled_on", "reported_on", "category"]
