"""The agency's work in Chromium: its menu pages, and opening a recall case from a failed batch."""
from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect
from sqlalchemy import select

from core.clock import local_today
from followup.models import Case
from inspection.services.batches import create_batch
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import batch_payload
from tests.followup_data import FAILING_ITEM


def _failed_batch(db_session, owner_id: int) -> int:
    reported = local_today() - timedelta(days=10)
    body = batch_payload(conclusion="fail", laboratory="杭州市食品药品检验研究院", items=[FAILING_ITEM],
                         sampled_on=reported - timedelta(days=5), reported_on=reported, product="纯牛奶")
    return create_batch(db_session, body, owner_id).id


def test_agency_walks_its_menu_pages(open_page, make_user, db_session):
    user, _ = make_user("agency", username="b-agency-menu")
    batch_id = _failed_batch(db_session, user.id)
    page = open_page()
    sign_in(page, user.username)
    menu = page.get_by_role("navigation", name="主菜单")
    labels = set(menu.get_by_role("link").all_inner_texts())
    assert {"不合格批次处置", "案件", "黑名单", "抽检计划"} <= labels and "节假日日历" not in labels, labels
    for href in [a.get_attribute("href") for a in menu.get_by_role("link").all()]:
        assert page.goto(href).status == 200, href
    for path in (f"/followup/disposals/{batch_id}", f"/followup/trace/{batch_id}"):
        assert page.goto(path).status == 200, path
    screenshot(page, "agency-trace.png")


def test_agency_opens_a_recall_case_from_a_failed_batch(open_page, make_user, db_session):
    user, _ = make_user("agency", username="b-agency-recall")
    batch_id = _failed_batch(db_session, user.id)
    page = open_page(viewport=(820, 1180))
    sign_in(page, user.username)
    page.goto(f"/batches/{batch_id}")
    page.locator("#open-recall").click()
    page.get_by_label("标题").fill("")
    page.get_by_role("button", name="立案").click()
    expect(page.locator("#title-error")).to_contain_text("此项为必填")
    page.get_by_label("标题").fill("纯牛奶召回")
    page.get_by_label("召回级别").select_option("II")
    page.get_by_label("涉及数量").fill("1200")
    page.get_by_role("button", name="立案").click()
    page.wait_for_url("**/followup/cases/*")
    expect(page.locator(".flash")).to_contain_text("召回案件已立案")
    db_session.expire_all()
    case = db_session.scalar(select(Case).where(Case.title == "纯牛奶召回"))
    assert case.batch_ids == [batch_id] and case.level == "II"
    # The workflow offers only the next step; closing waits for "action taken".
    expect(page.locator("#close-form")).to_have_count(0)
    page.get_by_role("button", name="转为：调查中").click()
    expect(page.locator(".case-status")).to_have_text("调查中")
    page.get_by_role("button", name="转为：已采取措施").click()
    page.locator("#close-form").get_by_label("处理结果").fill("已召回并销毁")
    page.locator("#close-form").get_by_role("button", name="结案").click()
    expect(page.locator("#quantity_recovered-error")).to_be_visible()  # a recall closes only with quantities
    screenshot(page, "agency-recall-close-refused.png")
    db_session.expire_all()
    assert db_session.get(Case, case.id).status == "action_taken"


def test_agency_concludes_a_retest_and_decides_an_objection(open_page, make_user, db_session):
    from followup.models import Objection, Retest
    from followup.services.appeals import apply_for_retest, raise_objection
    from followup.services.disposals import record_disposal

    user, _ = make_user("agency", username="b-agency-appeals")
    batch_id = _failed_batch(db_session, user.id)
    told = local_today() - timedelta(days=3)
    record_disposal(db_session, batch_id, {"severity": "general", "notified_on": told}, user.id, None)
    retest = apply_for_retest(db_session, batch_id, {"applied_on": told, "laboratory": "宁波市食品检验检测研究院"},
                              user.id, None)
    objection = raise_objection(db_session, batch_id, {"subject": "method", "grounds": "检验方法有误"}, user.id, None)
    page = open_page(viewport=(768, 1024))
    sign_in(page, user.username)
    page.goto(f"/followup/disposals/{batch_id}")
    decide = page.locator(f"#objection-{objection.id}")
    decide.get_by_role("button", name="登记决定").click()
    expect(page.locator(f"#objection-{objection.id}-decision-error")).to_contain_text("此项为必填")
    decide = page.locator(f"#objection-{objection.id}")
    decide.get_by_label("处理决定", exact=True).select_option("upheld")
    decide.get_by_label("决定理由").fill("抽样环节记录不全，异议成立")
    decide.get_by_role("button", name="登记决定").click()
    expect(page.locator(".objection-status")).to_have_text("异议成立")
    conclude = page.locator("#conclude-form")
    conclude.get_by_label("复检结论").select_option("fail")
    conclude.get_by_label("结论日期（留空为今天）").fill((local_today() + timedelta(days=1)).isoformat())
    conclude.get_by_role("button", name="登记结论").click()
    expect(page.locator("#concluded_on-error")).to_have_text("不能晚于今天")  # the service's rule, in Chinese
    conclude = page.locator("#conclude-form")
    conclude.get_by_label("结论日期（留空为今天）").fill("")
    conclude.get_by_label("复检报告编号").fill("FJ2026-9")
    conclude.get_by_role("button", name="登记结论").click()
    expect(page.locator(".retest-conclusion")).to_have_text("不合格")
    screenshot(page, "agency-retest-and-objection.png")
    db_session.expire_all()
    assert db_session.get(Retest, retest.id).conclusion == "fail"
    assert db_session.get(Objection, objection.id).status == "upheld"
