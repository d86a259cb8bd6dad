"""Layout on a phone (390 px) and a laptop (1366 px): the page fits the screen, wide tables
scroll inside their own box, and table cells keep words whole instead of one character a line."""
from __future__ import annotations

import re
from datetime import timedelta

from core.clock import local_today
from followup.services import blacklist
from inspection.models import Batch
from inspection.services.batches import create_batch
from tests.browser.conftest import screenshot, sign_in
from tests.conftest import batch_payload, make_code
from tests.followup_data import FAILING_ITEM

PHONE = (390, 844)
LAPTOP = (1366, 768)
PRODUCER = "余姚市示例乳制品有限公司"
YUYAO = "330281"
# How many lines a cell's text takes: the distinct tops of its line boxes.
LINES = """cell => { const range = document.createRange(); range.selectNodeContents(cell);
  return new Set([...range.getClientRects()].map(rect => Math.round(rect.top))).size; }"""
FITS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def _failed_batch(db_session, owner_id: int) -> int:
    reported = local_today() - timedelta(days=10)
    body = batch_payload(conclusion="fail", laboratory="杭州市食品药品检验研究院", items=[FAILING_ITEM],
                         sampled_on=reported - timedelta(days=5), reported_on=reported, product="纯牛奶",
                         region=YUYAO, enterprise_name=PRODUCER,
                         enterprise_credit_code=make_code(f"91{YUYAO}MA2B3C4D5"))  # registered in Yuyao
    return create_batch(db_session, body, owner_id).id


def _cell(page, table: str, text: str):
    return page.locator(f"{table} tbody td").filter(has_text=re.compile(f"^{text}$")).first


def test_pages_fit_a_phone_and_tables_scroll_in_their_box(open_page, make_user, db_session):
    user, _ = make_user("admin", username="b-phone")
    batch_id = _failed_batch(db_session, user.id)
    page = open_page(viewport=PHONE)
    sign_in(page, user.username)
    for path in ("/batches/new", f"/batches/{batch_id}/amend", "/batches", "/followup/disposals",
                 f"/batches/{batch_id}", f"/followup/disposals/{batch_id}"):
        assert page.goto(path).status == 200, path
        width = page.evaluate("document.documentElement.scrollWidth")
        assert page.evaluate(FITS), f"{path} is {width} px wide on a {PHONE[0]} px phone"
    screenshot(page, "phone-disposals.png")
    for path, table in (("/batches", "table"), ("/followup/disposals", "#disposals")):
        page.goto(path)
        producer = _cell(page, table, PRODUCER)
        assert producer.evaluate(LINES) <= 2, f"the producer's name on {path} breaks into many lines"
        header = page.locator(f"{table} thead th").filter(has_text="生产企业").first
        assert header.evaluate(LINES) == 1, f"the producer column's header on {path} wraps"
    page.goto("/batches/new")
    wrap = page.locator("#items").locator("xpath=..")  # the test-items table scrolls in its own box
    assert wrap.evaluate("box => box.scrollWidth > box.clientWidth && getComputedStyle(box).overflowX == 'auto'")


def test_short_columns_do_not_wrap_beside_a_long_reason(open_page, make_user, db_session):
    user, _ = make_user("admin", username="b-laptop")
    batch_id = _failed_batch(db_session, user.id)
    enterprise_id = db_session.get(Batch, batch_id).enterprise_id
    blacklist.add(db_session, enterprise_id, "拒不整改，" * 40 + "多次抽检不合格且未按期完成核查处置", user.id, None)
    db_session.commit()
    page = open_page(viewport=LAPTOP)
    sign_in(page, user.username)
    page.goto("/followup/blacklist")
    assert _cell(page, "#blacklist", "余姚市").evaluate(LINES) == 1, "the region wraps on the blacklist"
    page.goto("/followup/plan")
    region = _cell(page, "#plan", "余姚市")
    assert region.count() == 1, page.locator("#plan").inner_text()
    assert region.evaluate(LINES) == 1, "the region wraps on the sampling plan"
    screenshot(page, "laptop-plan.png")
    page.get_by_role("button", name="English").click()  # words break at spaces: the nowrap holds
    page.goto("/followup/blacklist")
    assert _cell(page, "#blacklist", "Yuyao City").evaluate(LINES) == 1, "the region wraps in English"
    assert page.locator("#blacklist tbody td:nth-child(4)").evaluate(LINES) == 1, "the date wraps"
