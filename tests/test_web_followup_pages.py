"""Agency (follow-up) pages, holiday calendar, webhooks and alert subscriptions, with the test client."""
from __future__ import annotations

import re
from datetime import date, timedelta

from sqlalchemy import select

from core.clock import local_today
from followup.models import Case, Disposal, Retest
from inspection.models import Enterprise
from inspection.services.batches import create_batch
from tests.conftest import batch_payload
from tests.followup_data import FAILING_ITEM
from tests.web_helpers import csrf_token, fresh_limits, sign_in, signed_in  # noqa: F401 (fixtures)


def _failed(db_session, region="330106", reported: date | None = None, **overrides) -> int:
    """A failed batch recorded through the service (agency users may not record batches)."""
    from core.auth.models import User

    reported = reported or local_today() - timedelta(days=10)
    body = batch_payload(conclusion="fail", region=region, laboratory="杭州市食品药品检验研究院",
                         items=[FAILING_ITEM], sampled_on=reported - timedelta(days=5), reported_on=reported)
    body.update(overrides)
    owner = db_session.scalar(select(User.id).limit(1))
    return create_batch(db_session, body, owner).id


def _error_of(page: str, field: str) -> str:
    match = re.search(rf'id="{field}-error">([^<]*)<', page)
    assert match, page[:3000]
    return match.group(1)


def test_disposal_list_filters_by_state_and_region(client, signed_in, db_session):
    signed_in("agency", region="330100")
    late = _failed(db_session, reported=local_today() - timedelta(days=200))
    fresh = _failed(db_session)
    elsewhere = _failed(db_session, region="330203")
    page = client.get("/followup/disposals?state=overdue").data.decode()
    assert f"/followup/disposals/{late}\"" in page and f"/followup/disposals/{fresh}\"" not in page
    page = client.get("/followup/disposals").data.decode()
    assert f"/followup/disposals/{fresh}\"" in page and f"/followup/disposals/{elsewhere}\"" not in page
    assert client.get(f"/followup/disposals/{elsewhere}").status_code == 404


def test_closing_a_disposal_names_the_missing_fields(client, signed_in, db_session):
    signed_in("agency")
    batch_id = _failed(db_session)
    token = csrf_token(client, f"/followup/disposals/{batch_id}")
    response = client.post(f"/followup/disposals/{batch_id}/close",
                           data={"csrf_token": token, "severity": "general", "measures": "下架"})
    assert response.status_code == 422
    page = response.data.decode()
    for field in ("notified_on", "cause", "outcome"):
        assert _error_of(page, field)
    assert db_session.scalar(select(Disposal).where(Disposal.batch_id == batch_id)) is None  # nothing half-written
    told = (local_today() - timedelta(days=3)).isoformat()
    response = client.post(f"/followup/disposals/{batch_id}/close",
                           data={"csrf_token": token, "severity": "general", "notified_on": told,
                                 "cause": "杀菌不彻底", "outcome": "责令整改"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.scalar(select(Disposal.status).where(Disposal.batch_id == batch_id)) == "closed"


def test_a_late_retest_is_refused_naming_the_due_date(client, signed_in, db_session):
    signed_in("agency")
    batch_id = _failed(db_session, reported=local_today() - timedelta(days=60))
    token = csrf_token(client, f"/followup/disposals/{batch_id}")
    told = local_today() - timedelta(days=50)
    assert client.post(f"/followup/disposals/{batch_id}/record",
                       data={"csrf_token": token, "severity": "general",
                             "notified_on": told.isoformat()}).status_code == 302
    response = client.post(f"/followup/disposals/{batch_id}/retest",
                           data={"csrf_token": token, "applied_on": local_today().isoformat(),
                                 "laboratory": "宁波市食品检验检测研究院"})
    assert response.status_code == 422
    message = _error_of(response.data.decode(), "applied_on")
    from followup.services.appeals import retest_due_on

    due = retest_due_on(db_session, told)
    assert message.startswith("已逾期") and f"{due.year}年{due.month}月{due.day}日" in message  # zh date
    assert db_session.scalar(select(Retest).where(Retest.batch_id == batch_id)) is None


def _open_recall(client, batch_id) -> int:
    token = csrf_token(client, f"/followup/disposals/{batch_id}/recall")
    response = client.post(f"/followup/disposals/{batch_id}/recall",
                           data={"csrf_token": token, "title": "纯牛奶召回", "level": "II", "product_type": "",
                                 "quantity_concerned": "1200", "unit": "箱"})
    assert response.status_code == 302, response.data.decode()[:3000]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def test_recall_case_workflow_from_a_failed_batch(client, signed_in, db_session):
    signed_in("agency")
    batch_id = _failed(db_session)
    assert f"/followup/disposals/{batch_id}/recall" in client.get(f"/batches/{batch_id}").data.decode()
    case_id = _open_recall(client, batch_id)
    case = db_session.get(Case, case_id)
    assert case.kind == "recall" and case.batch_ids == [batch_id] and case.quantity_concerned == 1200
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    # Only the step the status allows is offered; closing waits for "action taken".
    assert 'value="investigating"' in page and 'value="action_taken"' not in page and "close-form" not in page
    token = csrf_token(client, f"/followup/cases/{case_id}")
    # An invalid move (a page left open while the case moved on) is refused next to the buttons.
    response = client.post(f"/followup/cases/{case_id}/transition", data={"csrf_token": token, "to": "closed"})
    assert response.status_code == 422 and re.search(r'id="to-error">[^<]+<', response.data.decode())
    for step in ("investigating", "action_taken"):
        assert client.post(f"/followup/cases/{case_id}/transition",
                           data={"csrf_token": token, "to": step}).status_code == 302
    response = client.post(f"/followup/cases/{case_id}/close", data={"csrf_token": token, "outcome": "已召回"})
    assert response.status_code == 422
    page = response.data.decode()
    assert _error_of(page, "quantity_recovered") and _error_of(page, "recovered_disposal")
    db_session.expire_all()
    assert db_session.get(Case, case_id).status == "action_taken"
    response = client.post(f"/followup/cases/{case_id}/close",
                           data={"csrf_token": token, "outcome": "已召回", "quantity_recovered": "1100",
                                 "recovered_disposal": "销毁"})
    assert response.status_code == 302
    db_session.expire_all()
    assert db_session.get(Case, case_id).status == "closed"
    assert "transition-form" not in client.get(f"/followup/cases/{case_id}").data.decode()


def test_cancel_needs_a_reason_and_cases_list_flags(client, signed_in, db_session):
    signed_in("agency")
    case_id = _open_recall(client, _failed(db_session))
    token = csrf_token(client, f"/followup/cases/{case_id}")
    response = client.post(f"/followup/cases/{case_id}/cancel", data={"csrf_token": token, "reason": ""})
    assert response.status_code == 422 and _error_of(response.data.decode(), "reason")
    assert f"/followup/cases/{case_id}\"" in client.get("/followup/cases?kind=recall&status=open").data.decode()
    assert f"/followup/cases/{case_id}\"" not in client.get("/followup/cases?status=closed").data.decode()


def test_cases_of_another_region_are_hidden(client, signed_in, make_user, db_session):
    signed_in("agency", region="330200")
    batch_id = _failed(db_session, region="330106")
    assert client.get(f"/followup/disposals/{batch_id}/recall").status_code == 404
    assert client.get(f"/followup/trace/{batch_id}").status_code == 404


def test_blacklist_needs_a_reason_and_marks_the_enterprise(client, signed_in, db_session):
    signed_in("agency")
    batch_id = _failed(db_session)
    enterprise = db_session.scalar(select(Enterprise))
    token = csrf_token(client, "/followup/blacklist")
    response = client.post("/followup/blacklist", data={"csrf_token": token, "credit_code": enterprise.credit_code,
                                                        "reason": "  "})
    assert response.status_code == 422 and _error_of(response.data.decode(), "reason")
    assert client.post("/followup/blacklist", data={"csrf_token": token, "credit_code": enterprise.credit_code,
                                                    "reason": "两次严重不合格"}).status_code == 302
    assert "两次严重不合格" in client.get("/followup/blacklist").data.decode()
    assert "blacklisted" in client.get(f"/followup/disposals/{batch_id}").data.decode()
    response = client.post(f"/followup/enterprises/{enterprise.id}/unblacklist", data={"csrf_token": token})
    assert response.status_code == 422 and _error_of(response.data.decode(), "reason")
    assert client.post(f"/followup/enterprises/{enterprise.id}/unblacklist",
                       data={"csrf_token": token, "reason": "整改完成"}).status_code == 302
    db_session.expire_all()
    assert not db_session.get(Enterprise, enterprise.id).blacklisted


def test_blacklisting_by_code_answers_alike_for_unknown_and_out_of_view_enterprises(client, signed_in, db_session):
    signed_in("agency", region="330212")  # Ningbo
    _failed(db_session)  # its producer is registered in Xihu and was never sampled in Ningbo
    enterprise = db_session.scalar(select(Enterprise))
    token = csrf_token(client, "/followup/blacklist")

    def refusal(code: str) -> str:
        response = client.post("/followup/blacklist", data={"csrf_token": token, "credit_code": code,
                                                            "reason": "两次严重不合格"})
        assert response.status_code == 422
        return _error_of(response.data.decode(), "credit_code")

    assert refusal(enterprise.credit_code) == refusal("913300000000000004")  # well formed, unknown
    db_session.expire_all()
    assert not db_session.get(Enterprise, enterprise.id).blacklisted


def test_a_malformed_credit_code_is_called_malformed_and_the_button_says_what_it_does(
        client, signed_in, db_session):
    signed_in("agency")
    page = client.get("/followup/blacklist").data.decode()
    assert '<button type="submit" class="danger">列入黑名单</button>' in page
    token = csrf_token(client, "/followup/blacklist")
    response = client.post("/followup/blacklist", data={"csrf_token": token, "credit_code": "91330000000000000X",
                                                        "reason": "两次严重不合格"})
    assert response.status_code == 422
    message = _error_of(response.data.decode(), "credit_code")
    assert "校验位错误" in message and "辖区" not in message
    response = client.post("/followup/blacklist", data={"csrf_token": token, "credit_code": "",
                                                        "reason": "两次严重不合格"})
    assert _error_of(response.data.decode(), "credit_code") == "此项为必填。"


def test_trace_credit_and_plan_pages_render(client, signed_in, db_session):
    signed_in("agency")
    batch_id = _failed(db_session)
    _open_recall(client, batch_id)
    trace = client.get(f"/followup/trace/{batch_id}").data.decode()
    assert 'class="event-failed"' in trace and 'class="event-recall_opened"' in trace
    enterprise = db_session.scalar(select(Enterprise))
    assert 'id="credit-score"' in client.get(f"/followup/enterprises/{enterprise.id}").data.decode()
    assert client.get("/followup/plan").status_code == 200
    assert "2025-13" in client.get("/followup/plan?month=2025-13").data.decode()
    assert "最晚只能编制到下个月" in client.get("/followup/plan?month=2999-01").data.decode()


def test_supervisor_reads_without_the_forms_and_may_not_act(client, signed_in, db_session):
    signed_in("supervisor")
    batch_id = _failed(db_session)
    page = client.get(f"/followup/disposals/{batch_id}").data.decode()
    assert "disposal-form" not in page and "open-recall" not in page
    token = csrf_token(client, "/followup/blacklist")
    assert client.post(f"/followup/disposals/{batch_id}/close", data={"csrf_token": token}).status_code == 403


def test_holiday_calendar(client, signed_in, db_session):
    from followup.models import CalendarDay

    signed_in("admin")
    token = csrf_token(client, "/admin/holidays")
    assert client.post("/admin/holidays", data={"csrf_token": token, "working": "0"}).status_code == 422
    response = client.post("/admin/holidays", data={"csrf_token": token, "day": "2030-10-08", "working": "0",
                                                    "note": "国庆节"})
    assert response.status_code == 302 and response.headers["Location"].endswith("year=2030")
    assert db_session.get(CalendarDay, date(2030, 10, 8)).working is False
    assert "国庆节" in client.get("/admin/holidays?year=2030").data.decode()
    assert "国庆节" not in client.get("/admin/holidays?year=2031").data.decode()


def test_webhook_secret_is_shown_once_and_deactivation(client, signed_in, db_session):
    from warning.notify.models import Webhook
    from warning.notify.sealing import unseal

    signed_in("admin")
    token = csrf_token(client, "/admin/webhooks")
    bad = client.post("/admin/webhooks", data={"csrf_token": token, "url": "ftp://x", "region": "330000",
                                               "category": "*", "min_level": "orange"})
    assert bad.status_code == 422 and _error_of(bad.data.decode(), "url") == "仅支持 http 和 https 地址。"  # one message
    response = client.post("/admin/webhooks", data={"csrf_token": token, "url": "https://hooks.example.gov.cn/w",
                                                    "region": "330100", "category": "*", "min_level": "orange"})
    hook = db_session.scalar(select(Webhook))
    secret = unseal(hook.secret_encrypted)
    assert response.status_code == 200 and secret in response.data.decode()
    assert secret not in client.get("/admin/webhooks").data.decode()
    assert client.post(f"/admin/webhooks/{hook.id}/deactivate", data={"csrf_token": token}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Webhook, hook.id).active is False


def test_subscriptions_are_ones_own_and_within_ones_region(client, signed_in, make_user, db_session):
    from warning.notify.models import Subscription

    other, _ = make_user("supervisor", region="330100")
    db_session.add(Subscription(user_id=other.id, email="other@hz.example.gov.cn", region_code="330100",
                                category_code="*", min_level="yellow"))
    db_session.commit()
    foreign = db_session.scalar(select(Subscription.id))
    signed_in("supervisor", region="330100")
    assert client.get(f"/supervision/subscriptions/{foreign}").status_code == 404
    token = csrf_token(client, "/supervision/subscriptions")
    for address in ("not-an-address", "a@b..cn", "a,b@hz.gov.cn", "a@-hz.gov.cn"):  # the API refuses them too
        bad = client.post("/supervision/subscriptions", data={"csrf_token": token, "email": address,
                                                              "region": "330100", "category": "*", "min_level": "red"})
        assert bad.status_code == 422 and _error_of(bad.data.decode(), "email"), address
    # Outside one's region is not offered, and refused if posted.
    assert client.post("/supervision/subscriptions", data={"csrf_token": token, "email": "me@hz.example.gov.cn",
                                                           "region": "330200", "category": "*",
                                                           "min_level": "red"}).status_code == 422
    assert client.post("/supervision/subscriptions", data={"csrf_token": token, "email": "me@hz.example.gov.cn",
                                                           "region": "330106", "category": "*",
                                                           "min_level": "red"}).status_code == 302
    mine = db_session.scalar(select(Subscription).where(Subscription.email == "me@hz.example.gov.cn"))
    assert client.post(f"/supervision/subscriptions/{mine.id}", data={
        "csrf_token": token, "email": "me2@hz.example.gov.cn", "region": "330106", "category": "*",
        "min_level": "orange", "active": "y"}).status_code == 302
    assert client.post(f"/supervision/subscriptions/{mine.id}/deactivate", data={"csrf_token": token}).status_code == 302
    db_session.expire_all()
    mine = db_session.get(Subscription, mine.id)
    assert (mine.email, mine.min_level, mine.active) == ("me2@hz.example.gov.cn", "orange", False)
    page = client.get("/supervision/subscriptions").data.decode()
    assert "me2@hz.example.gov.cn" in page and "other@hz.example.gov.cn" not in page


def test_alert_link_of_notification_emails_opens_the_alert_page(client, signed_in, db_session):
    from tests.series_data import MILK
    from tests.web_helpers import seed_alert

    alert = seed_alert(db_session, MILK, "330106")
    signed_in("supervisor")
    response = client.get(f"/alerts/{alert.id}")
    assert response.status_code == 302 and response.headers["Location"].endswith(f"/supervision/alerts/{alert.id}")
    assert client.get(response.headers["Location"]).status_code == 200


def test_case_quantities_and_regions_reached(client, signed_in, db_session):
    signed_in("agency")
    case_id = _open_recall(client, _failed(db_session))
    token = csrf_token(client, f"/followup/cases/{case_id}")
    bad = client.post(f"/followup/cases/{case_id}/details",
                      data={"csrf_token": token, "quantity_concerned": "1200", "distribution": "330106 999999"})
    assert bad.status_code == 422 and "999999" in _error_of(bad.data.decode(), "distribution")
    for typo in ("5e12", "Infinity", "NaN", "sNaN"):  # beyond the API's bound, or not a number
        refused = client.post(f"/followup/cases/{case_id}/details", data={"csrf_token": token, "quantity_concerned": typo})
        assert refused.status_code == 422 and _error_of(refused.data.decode(), "quantity_concerned"), typo
    assert client.post(f"/followup/cases/{case_id}/details",
                       data={"csrf_token": token, "quantity_concerned": "1300", "unit": "箱",
                             "distribution": "330106，330203"}).status_code == 302
    db_session.expire_all()
    case = db_session.get(Case, case_id)
    assert (case.quantity_concerned, case.distribution) == (1300, ["330106", "330203"])
    by_name = client.post(f"/followup/cases/{case_id}/details",  # as an officer says it
                          data={"csrf_token": token, "distribution": "杭州市 宁波 330212"})
    assert by_name.status_code == 422 and _error_of(by_name.data.decode(), "distribution").endswith("宁波")
    assert client.post(f"/followup/cases/{case_id}/details",
                       data={"csrf_token": token, "distribution": "杭州市、宁波市 330212"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Case, case_id).distribution == ["330100", "330200", "330212"]


def test_a_disposals_state_reads_as_a_state_not_as_the_filter_option(client, signed_in, db_session):
    signed_in("agency")
    batch_id = _failed(db_session)
    listing = client.get("/followup/disposals").data.decode()
    row = listing.split(f"/followup/disposals/{batch_id}\"", 1)[1].split("</tr>", 1)[0]
    assert '<span class="tag state-open">处理中</span>' in row and "全部" not in row
    assert '<option value="open" selected>未结案（全部）</option>' in listing  # the filter keeps its option
    page = client.get(f"/followup/disposals/{batch_id}").data.decode()
    assert '<span class="tag state-open">处理中</span>' in page and "（全部）" not in page


def test_a_recall_needs_a_chosen_level_and_its_case_page_shows_the_batch_and_the_stored_quantities(
        client, signed_in, db_session):
    from inspection.models import Batch

    signed_in("agency")
    batch_id = _failed(db_session)
    form = client.get(f"/followup/disposals/{batch_id}/recall").data.decode()
    levels = form.split('id="level"', 1)[1].split("</select>", 1)[0]
    assert '<option value="">' in levels and "selected" not in levels  # no level preselected
    token = csrf_token(client, f"/followup/disposals/{batch_id}/recall")
    response = client.post(f"/followup/disposals/{batch_id}/recall",
                           data={"csrf_token": token, "title": "纯牛奶召回", "product_type": ""})
    assert response.status_code == 422
    assert _error_of(response.data.decode(), "level") == "请选择召回级别：一级、二级或三级。"
    assert db_session.scalar(select(Case.id)) is None
    case_id = _open_recall(client, batch_id)
    sample_no = db_session.get(Batch, batch_id).sample_no
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    batches = page.split('class="case-batches">', 1)[1].split("</dd>", 1)[0]
    assert batches == f'<a href="/batches/{batch_id}">{sample_no}</a> '
    token = csrf_token(client, f"/followup/cases/{case_id}")
    assert client.post(f"/followup/cases/{case_id}/details",
                       data={"csrf_token": token, "quantity_concerned": "1200", "quantity_recovered": "480",
                             "unit": "箱", "recovered_disposal": "监督销毁"}).status_code == 302
    for step in ("investigating", "action_taken"):
        assert client.post(f"/followup/cases/{case_id}/transition",
                           data={"csrf_token": token, "to": step}).status_code == 302
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    close_form = page.split('id="close-form"', 1)[1].split("</form>", 1)[0]
    assert re.search(r'id="quantity_recovered"[^>]*value="480(\.0+)?"', close_form)
    assert "监督销毁</textarea>" in close_form
    assert client.post(f"/followup/cases/{case_id}/close",
                       data={"csrf_token": token, "quantity_recovered": "480", "recovered_disposal": "监督销毁",
                             "outcome": "已召回"}).status_code == 302
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    assert '<dd id="recovered-disposal">监督销毁</dd>' in page


def test_the_credit_page_shows_the_score_to_one_decimal_and_why_a_blacklisted_enterprise_is_d(
        client, signed_in, db_session):
    from followup.services import blacklist
    from followup.services.credit import credit_record

    user = signed_in("agency")
    batch_id = _failed(db_session)
    _open_recall(client, batch_id)  # level II: 10 points off, besides the failure's
    enterprise = db_session.scalar(select(Enterprise))
    blacklist.add(db_session, enterprise.id, "多次抽检不合格", user.id, None)
    db_session.commit()
    record = credit_record(db_session, enterprise, None)
    assert record["grade"] == "D" and record["grade_by_score"] == "B"
    page = client.get(f"/followup/enterprises/{enterprise.id}").data.decode()
    shown = re.search(r'id="credit-score">([^<]*)<', page).group(1)
    assert shown == f"{record['score']:.1f} (等级 D：因已列入黑名单；仅按分数为 B 级)"
    with client.application.test_request_context():
        from web.i18n import one_decimal
        assert one_decimal(75.0) == "75.0"  # as the API rounds it, never "75"


def test_rule_blacklistings_read_in_the_pages_language_old_rows_included(client, signed_in, db_session):
    from followup.services.blacklist import SERIOUS_FAILURES, _change

    signed_in("agency")
    _failed(db_session)
    enterprise = db_session.scalar(select(Enterprise))
    # A row as the rule wrote it before its text was declared: plain English in the database.
    _change(db_session, enterprise, "add", "3 serious failures within 12 months: CC1, CC2, CC3", None,
            "serious_failures")
    db_session.commit()
    page = client.get("/followup/blacklist").data.decode()
    reason = re.search(r'<td class="reason">([^<]*)</td>', page).group(1)
    assert reason == "12 个月内 3 次严重不合格：CC1、CC2、CC3 (依规则：多次严重不合格)"
    history = client.get(f"/followup/enterprises/{enterprise.id}").data.decode()
    assert "12 个月内 3 次严重不合格：CC1、CC2、CC3 (依规则：多次严重不合格)" in history
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/"), "next": "/"})
    page = client.get("/followup/blacklist").data.decode()
    assert "(by the rule: repeated serious failures)" in page and "serious_failures" not in page
    # What the rule writes now is that declared message (English in the database and the API).
    assert SERIOUS_FAILURES(n=2, months=12, samples=["A1", "B2"]) == "2 serious failures within 12 months: A1, B2"


def test_an_agency_opens_a_case_from_an_alert_and_the_alert_lists_it(client, signed_in, db_session):
    from tests.web_helpers import seed_alert

    alert = seed_alert(db_session, "food.dairy.liquid_milk", "330106")
    signed_in("inspector", region="330106")
    assert 'id="alert-cases"' not in client.get(f"/supervision/alerts/{alert.id}").data.decode()
    signed_in("agency", region="330212")  # Ningbo: the alert is not theirs
    assert client.get(f"/followup/alerts/{alert.id}/case").status_code == 404
    signed_in("agency", region="330100")
    page = client.get(f"/supervision/alerts/{alert.id}").data.decode()
    assert "尚未就此预警立案" in page and f'href="/followup/alerts/{alert.id}/case"' in page

    form = client.get(f"/followup/alerts/{alert.id}/case").data.decode()
    title = re.search(r'name="title"[^>]*value="([^"]*)"', form).group(1)
    assert "西湖区" in title and re.search(r'<option selected value="traceability">|<option value="traceability" selected', form)
    token = csrf_token(client, f"/followup/alerts/{alert.id}/case")
    base = {"csrf_token": token, "title": title, "product_type": "food"}
    no_level = client.post(f"/followup/alerts/{alert.id}/case", data={**base, "kind": "recall", "level": ""})
    assert no_level.status_code == 422 and _error_of(no_level.data.decode(), "level")
    opened = client.post(f"/followup/alerts/{alert.id}/case", data={**base, "kind": "traceability", "level": ""})
    assert opened.status_code == 302

    case = db_session.scalar(select(Case).where(Case.alert_id == alert.id))
    assert case.kind == "traceability" and case.region_code == "330106" and case.source == "alert"
    assert opened.headers["Location"].endswith(f"/followup/cases/{case.id}")
    listed = client.get(f"/supervision/alerts/{alert.id}").data.decode()
    assert f'href="/followup/cases/{case.id}"' in listed and "尚未就此预警立案" not in listed
