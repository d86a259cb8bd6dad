"""Agency pages: concluding a retest, deciding an objection, and the region filters of the lists."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from core.audit import AuditRecord
from core.clock import local_today
from followup.models import Objection, Retest
from inspection.models import Batch, BatchRevision
from tests.test_web_followup_pages import _error_of, _failed
from tests.web_helpers import csrf_token, fresh_limits, signed_in  # noqa: F401 (fixtures)


def _with_retest(client, db_session) -> tuple[int, int]:
    batch_id = _failed(db_session, reported=local_today() - timedelta(days=8))
    token = csrf_token(client, f"/followup/disposals/{batch_id}")
    told = local_today() - timedelta(days=3)
    assert client.post(f"/followup/disposals/{batch_id}/record",
                       data={"csrf_token": token, "severity": "general", "notified_on": told.isoformat()}
                       ).status_code == 302
    assert client.post(f"/followup/disposals/{batch_id}/retest",
                       data={"csrf_token": token, "applied_on": told.isoformat(),
                             "laboratory": "宁波市食品检验检测研究院"}).status_code == 302
    return batch_id, db_session.scalar(select(Retest.id).where(Retest.batch_id == batch_id))


def _audited(db_session, action: str, entity: str, entity_id: int) -> list[AuditRecord]:
    return list(db_session.scalars(select(AuditRecord).where(
        AuditRecord.action == action, AuditRecord.entity == entity, AuditRecord.entity_id == str(entity_id))))


def test_a_passing_retest_is_concluded_on_the_disposal_page_and_amends_the_batch(client, signed_in, db_session):
    user = signed_in("agency")
    batch_id, retest_id = _with_retest(client, db_session)
    page = client.get(f"/followup/disposals/{batch_id}").data.decode()
    assert f'action="/followup/retests/{retest_id}/conclude"' in page
    token = csrf_token(client, f"/followup/disposals/{batch_id}")
    future = (local_today() + timedelta(days=2)).isoformat()
    refused = client.post(f"/followup/retests/{retest_id}/conclude",
                          data={"csrf_token": token, "conclusion": "pass", "concluded_on": future})
    assert refused.status_code == 422 and _error_of(refused.data.decode(), "concluded_on") == "不能晚于今天"
    early = (local_today() - timedelta(days=4)).isoformat()
    refused = client.post(f"/followup/retests/{retest_id}/conclude",
                          data={"csrf_token": token, "conclusion": "pass", "concluded_on": early})
    assert _error_of(refused.data.decode(), "concluded_on") == "不能早于申请日期"
    db_session.expire_all()
    assert db_session.get(Retest, retest_id).status == "requested"  # nothing half-written
    done = client.post(f"/followup/retests/{retest_id}/conclude",
                       data={"csrf_token": token, "conclusion": "pass", "report_no": "FJ-7"})
    assert done.status_code == 302 and done.headers["Location"] == f"/batches/{batch_id}"
    db_session.expire_all()
    retest, batch = db_session.get(Retest, retest_id), db_session.get(Batch, batch_id)
    assert (retest.status, retest.conclusion, retest.report_no, retest.concluded_by_id) == (
        "concluded", "pass", "FJ-7", user.id)
    assert batch.conclusion == "pass" and batch.laboratory == "宁波市食品检验检测研究院"
    assert db_session.scalar(select(BatchRevision.action).where(BatchRevision.batch_id == batch_id)) == "amend"
    assert [r.user_id for r in _audited(db_session, "conclude", "retest", retest_id)] == [user.id]


def test_a_failing_retest_stays_on_the_disposal_page_and_is_final(client, signed_in, db_session):
    signed_in("agency")
    batch_id, retest_id = _with_retest(client, db_session)
    token = csrf_token(client, f"/followup/disposals/{batch_id}")
    done = client.post(f"/followup/retests/{retest_id}/conclude", data={"csrf_token": token, "conclusion": "fail"})
    assert done.headers["Location"] == f"/followup/disposals/{batch_id}"
    page = client.get(done.headers["Location"]).data.decode()
    assert 'class="retest-conclusion">不合格<' in page and "/conclude" not in page
    again = client.post(f"/followup/retests/{retest_id}/conclude", data={"csrf_token": token, "conclusion": "pass"})
    assert again.status_code == 422
    assert f"复检 {retest_id} 已有结论（不合格），复检结论为最终结论" in again.data.decode()
    db_session.expire_all()
    assert db_session.get(Batch, batch_id).conclusion == "fail"


def test_an_objection_is_decided_with_its_grounds(client, signed_in, db_session):
    user = signed_in("agency")
    batch_id = _failed(db_session)
    token = csrf_token(client, f"/followup/disposals/{batch_id}")
    raised = (local_today() - timedelta(days=2)).isoformat()
    for grounds in ("抽样不规范", "检验方法有误"):
        assert client.post(f"/followup/disposals/{batch_id}/objection", data={
            "csrf_token": token, "subject": "sampling", "grounds": grounds, "raised_on": raised}).status_code == 302
    first, second = db_session.scalars(select(Objection.id).where(Objection.batch_id == batch_id)
                                       .order_by(Objection.id)).all()
    page = client.get(f"/followup/disposals/{batch_id}").data.decode()
    assert f'id="objection-{first}-decision"' in page and f'id="objection-{second}-decision"' in page
    url = f"/followup/objections/{first}/decide"
    blank = client.post(url, data={"csrf_token": token, f"objection-{first}-status": "rejected"})
    assert blank.status_code == 422 and _error_of(blank.data.decode(), f"objection-{first}-decision") == "此项为必填。"
    early = client.post(url, data={"csrf_token": token, f"objection-{first}-status": "rejected",
                                   f"objection-{first}-decision": "方法符合标准",
                                   f"objection-{first}-decided_on": (local_today() - timedelta(days=5)).isoformat()})
    assert _error_of(early.data.decode(), f"objection-{first}-decided_on") == "不能早于提出异议的日期"
    done = client.post(url, data={"csrf_token": token, f"objection-{first}-status": "rejected",
                                  f"objection-{first}-decision": "检验方法符合标准要求"})
    assert done.status_code == 302
    db_session.expire_all()
    decided = db_session.get(Objection, first)
    assert (decided.status, decided.decision, decided.decided_by_id) == ("rejected", "检验方法符合标准要求", user.id)
    assert db_session.get(Objection, second).status == "open"
    page = client.get(f"/followup/disposals/{batch_id}").data.decode()
    assert "异议不成立（维持检验结论）" in page and f'action="{url}"' not in page
    assert [r.user_id for r in _audited(db_session, "decide", "objection", first)] == [user.id]


def test_a_supervisor_sees_retests_and_objections_without_the_forms(client, signed_in, db_session):
    signed_in("agency")
    batch_id, retest_id = _with_retest(client, db_session)
    client.get("/logout")
    signed_in("supervisor")
    page = client.get(f"/followup/disposals/{batch_id}").data.decode()
    assert "宁波市食品检验检测研究院" in page and "/conclude" not in page
    token = csrf_token(client, f"/followup/disposals/{batch_id}")
    assert client.post(f"/followup/retests/{retest_id}/conclude",
                       data={"csrf_token": token, "conclusion": "pass"}).status_code == 403


def test_lists_filter_by_region_within_the_users_scope(client, signed_in, db_session):
    signed_in("agency", region="330100")
    xihu = [_failed(db_session, region="330106") for _ in range(26)]
    gongshu = _failed(db_session, region="330105")
    ningbo = _failed(db_session, region="330203")
    page = client.get("/followup/disposals?state=all&region=330105").data.decode()
    assert f"/followup/disposals/{gongshu}\"" in page and f"/followup/disposals/{xihu[0]}\"" not in page
    assert '<option value="330105" selected>' in page and 'value="330203"' not in page  # only their own regions
    first = client.get("/followup/disposals?state=all&region=330106").data.decode()
    assert first.count('<tr class="state-') == 25 and "region=330106" in first.split('rel="next"')[0].rsplit("<a", 1)[1]
    second = client.get("/followup/disposals?state=all&region=330106&page=2").data.decode()
    assert second.count('<tr class="state-') == 1
    # A region outside the user's scope is no filter: they see their own region, never Ningbo's.
    outside = client.get("/followup/disposals?state=all&region=330203").data.decode()
    assert '<option value="" selected>' in outside and f"/followup/disposals/{ningbo}\"" not in outside
    from tests.test_web_followup_pages import _open_recall

    case_id = _open_recall(client, gongshu)
    assert f"/followup/cases/{case_id}\"" in client.get("/followup/cases?region=330105").data.decode()
    assert f"/followup/cases/{case_id}\"" not in client.get("/followup/cases?region=330106").data.decode()
    plan = client.get("/followup/plan?region=330106").data.decode()
    assert '<option value="330106" selected>' in plan


def _value(page: str, field: str) -> str:
    return re.search(rf'id="{field}"[^>]*value="([^"]*)"', page).group(1)


def test_a_recall_case_page_names_its_level_statuses_regions_and_quantities_as_people_say_them(
        client, signed_in, db_session):
    from tests.test_web_followup_pages import _open_recall

    signed_in("agency")
    batch_id = _failed(db_session)
    levels = client.get(f"/followup/disposals/{batch_id}/recall").data.decode().split('id="level"', 1)[1]
    assert '<option value="I">一级</option>' in levels.split("</select>", 1)[0]
    case_id = _open_recall(client, batch_id)  # level II
    token = csrf_token(client, f"/followup/cases/{case_id}")
    assert client.post(f"/followup/cases/{case_id}/details", data={
        "csrf_token": token, "quantity_concerned": "2400", "unit": "箱", "distribution": "平阳县 330106",
        "quantity_recovered": "", "recovered_disposal": ""}).status_code == 302
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    assert re.search(r"<h1>二级召回 · ", page) and 'id="recall-level">二级<' in page
    # The form shows what the summary shows, in a form it takes back.
    assert "2,400 箱" in page and _value(page, "quantity_concerned") == "2400"
    assert _value(page, "distribution") == "平阳县 西湖区"
    for step in ("investigating", "action_taken"):
        assert client.post(f"/followup/cases/{case_id}/transition",
                           data={"csrf_token": token, "to": step}).status_code == 302
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    workflow = page.split('id="transition-form"', 1)[1].split("</form>", 1)[0]
    assert 'name="to"' not in workflow and 'id="next-step">下一步：在下方结案' in workflow
    client.post("/language", data={"lang": "en", "csrf_token": csrf_token(client, "/"), "next": "/"})
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    assert re.search(r"<h1>Class II recall · ", page)
    events = page.split('<ol class="events">', 1)[1].split("</ol>", 1)[0]
    assert "Open → Investigating" in events and "Investigating → Action taken" in events
    assert "open -&gt; investigating" not in events and "->" not in events


def test_a_traceability_case_offers_no_recall_fields_and_closes_with_its_outcome(client, signed_in, db_session):
    from followup.models import Case
    from tests.web_helpers import seed_alert

    alert = seed_alert(db_session, "food.dairy.liquid_milk", "330106")
    signed_in("agency", region="330100")
    token = csrf_token(client, f"/followup/alerts/{alert.id}/case")
    opened = client.post(f"/followup/alerts/{alert.id}/case", data={
        "csrf_token": token, "kind": "traceability", "title": "西湖区液态奶溯源", "level": "", "product_type": "food"})
    case_id = int(opened.headers["Location"].rsplit("/", 1)[1])
    db_session.get(Case, case_id).quantity_recovered = 5  # as the API may record it
    db_session.commit()
    assert client.post(f"/followup/cases/{case_id}/details", data={
        "csrf_token": token, "quantity_concerned": "300", "unit": "箱", "distribution": ""}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Case, case_id).quantity_recovered == 5  # a field the form left out stays as stored
    for step in ("investigating", "action_taken"):
        assert client.post(f"/followup/cases/{case_id}/transition",
                           data={"csrf_token": token, "to": step}).status_code == 302
    page = client.get(f"/followup/cases/{case_id}").data.decode()
    forms = page.split('id="transition-form"', 1)[1]
    assert 'name="quantity_recovered"' not in forms and 'name="recovered_disposal"' not in forms
    assert 'id="next-step">下一步：在下方结案，填写处理结果。' in forms and 'name="outcome"' in forms
    assert client.post(f"/followup/cases/{case_id}/close",
                       data={"csrf_token": token, "outcome": "已查明来源"}).status_code == 302
    db_session.expire_all()
    assert db_session.get(Case, case_id).status == "closed"


def test_the_credit_page_lists_failed_batches_by_the_sampling_date_it_shows_newest_first(
        client, signed_in, db_session):
    from inspection.models import Enterprise

    signed_in("agency")
    base = local_today() - timedelta(days=90)
    # (days after base: sampled, reported); the disposal deadlines follow the report dates, in another order.
    for sampled, reported in ((4, 10), (0, 40), (5, 45), (30, 31)):
        _failed(db_session, sampled_on=base + timedelta(days=sampled),
                reported=base + timedelta(days=reported))
    enterprise = db_session.scalar(select(Enterprise))
    page = client.get(f"/followup/enterprises/{enterprise.id}").data.decode()
    listed = page.split("<h2>不合格批次</h2>", 1)[1].split("</ul>", 1)[0]
    shown = [sample for sample in re.findall(r'href="/followup/disposals/\d+">([^<]+)</a>', listed)]
    by_sampling = db_session.scalars(select(Batch.sample_no).order_by(Batch.sampled_on.desc())).all()
    assert shown == by_sampling and len(shown) == 4
