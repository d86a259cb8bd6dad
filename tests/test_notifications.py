"""Alert groups and their notices: who is told, written with the scan, delivered by SMTP and webhook."""
from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from core.clock import shift_month
from core.extensions import db
from core.models import utcnow
from core.reference.trees import load_trees
from tests.notify_servers import SmtpServer, WebhookReceiver, free_port
from tests.series_data import DROP, MILK, csv_rows, load
from warning.models import Alert, AlertGroup
from warning.notify import services
from warning.notify.delivery import DeliverySettings, deliver_due
from warning.notify.models import OutboxMessage
from warning.notify.outbox import group_alerts
from warning.scan import run_scan

XIHU, YINZHOU, HAISHU, NINGBO = "330106", "330212", "330203", "330200"
AS_OF = "2024-06"
SECRET = "test-signing-secret-0123456789"


@pytest.fixture
def world(db_session, admin):
    """24 months to AS_OF: stable liquid milk in Xihu; degrading in two Ningbo counties."""
    user, _ = admin
    rows = []
    for i, month in enumerate(shift_month(AS_OF, k) for k in range(-23, 1)):
        usual = 1 if i % 4 == 0 else 0
        rows.append(csv_rows(XIHU, month, 20, usual))
        for county in (YINZHOU, HAISHU):
            rows.append(csv_rows(county, month, 20, DROP[i - 18] if i >= 18 else usual))
    load(db_session, user.id, "".join(rows))
    return user


def subscribe(session, make_user, region: str, category: str = "*", min_level: str = "yellow",
              email: str | None = None):
    user, _ = make_user("supervisor", region=region)
    return services.create_subscription(
        session, {"email": email or f"{user.username}@example.test", "region_code": region,
                  "category_code": category, "min_level": min_level}, user.id, region)


def settings_for(port: int, **kw) -> DeliverySettings:
    return DeliverySettings(base_url="https://warning.example.test", mail_server="127.0.0.1", mail_port=port,
                            mail_from="warning@example.test", timeout=5, **kw)


def outbox(session) -> list[OutboxMessage]:
    session.expire_all()
    return list(session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def active(session) -> dict:
    return {(a.category_code, a.region_code): a for a in session.scalars(select(Alert))
            if a.status in ("open", "acknowledged", "escalated")}


def test_a_city_and_its_counties_alerted_by_one_scan_are_one_group(db_session, world, make_user, client):
    city_sub = subscribe(db_session, make_user, NINGBO, "food")
    _, admin = make_user("admin")
    run_scan(db_session, AS_OF, "test")

    alerts = active(db_session)
    ningbo = {key: a for key, a in alerts.items() if key[1] in (NINGBO, YINZHOU, HAISHU)}
    assert {(MILK, NINGBO), (MILK, YINZHOU), (MILK, HAISHU)} <= set(ningbo)
    assert len({a.group_id for a in ningbo.values()}) == 1 and None not in {a.group_id for a in ningbo.values()}
    assert not any(key[1] == XIHU for key in alerts)
    group = db_session.get(AlertGroup, ningbo[(MILK, NINGBO)].group_id)
    assert group.region_code in (NINGBO, "330000")  # the group's top series is the widest region
    rows = [r for r in outbox(db_session) if r.address == city_sub.email]
    assert len(rows) == 1, "one notice per group and subscriber"
    told = {(a["category"], a["region"]) for a in rows[0].payload["alerts"]}
    assert {(MILK, NINGBO), (MILK, YINZHOU), (MILK, HAISHU)} <= told
    assert all(a["category"].startswith("food") and a["region"] in (NINGBO, YINZHOU, HAISHU)
               for a in rows[0].payload["alerts"]), "only what the filter takes in"
    listed = {a["id"]: a["group_id"] for a in client.get("/api/alerts", headers=admin).json}
    assert {listed[a.id] for a in ningbo.values()} == {group.id}
    notices = client.get("/api/notifications", query_string={"status": "pending"}, headers=admin).json
    mine = [n for n in notices if n["address"] == city_sub.email]
    assert [(n["group_id"], n["channel"], sorted(n["alerts"])) for n in mine] == [
        (group.id, "email", sorted(a["id"] for a in rows[0].payload["alerts"]))]


def test_a_notice_is_graded_by_the_alerts_its_recipient_is_told_of(db_session, make_user):
    from warning.models import AlertEvent, Scan
    from warning.notify.mail import compose
    from warning.notify.outbox import notify_scan

    county, _ = make_user("supervisor", region="330106")
    city, _ = make_user("supervisor", region="330100")
    for user, region in ((county, "330106"), (city, "330100")):
        services.create_subscription(db_session, {"email": f"{region}@example.test", "region_code": region,
                                                  "category_code": "*", "min_level": "yellow"}, user.id, region)
    scan = Scan(as_of="2025-06", status="done", model_version="t", series_assessed=2, alerts_raised=2)
    db_session.add(scan)
    db_session.flush()
    for region, level in (("330100", "red"), ("330106", "yellow")):  # one group: the city and its county
        db_session.add(Alert(category_code=MILK, region_code=region, level=level, status="open",
                             opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.9,
                             events=[AlertEvent(action="raised", scan_id=scan.id, to_level=level)]))
    db_session.flush()

    notify_scan(db_session, scan)

    rows = {row.address: row for row in db_session.scalars(select(OutboxMessage))}
    assert len({row.group_id for row in rows.values()}) == 1
    told_county = rows["330106@example.test"].payload
    assert [a["level"] for a in told_county["alerts"]] == ["yellow"] and told_county["level"] == "yellow"
    assert rows["330100@example.test"].payload["level"] == "red"
    subject = compose(told_county, 1, "w@example.test", "330106@example.test", "https://x")["Subject"]
    assert "红色" not in subject


def test_groups_join_series_that_descend_from_one_another_only(db_session):
    trees = load_trees(db_session)

    def alert(i, cat, region):
        return Alert(id=i, category_code=cat, region_code=region, level="yellow")

    a = [alert(1, MILK, YINZHOU), alert(2, MILK, NINGBO), alert(3, MILK, XIHU),
         alert(4, "food.dairy", YINZHOU), alert(5, "food.dairy.milk_powder", "330100"), alert(6, "*", NINGBO)]
    groups = [[x.id for x in g] for g in group_alerts(trees, a)]
    # 1 descends from 2 (region), 4 (category) and 6 (all products in Ningbo); Xihu and Hangzhou
    # milk powder descend from no other alerted series.
    assert sorted(map(sorted, groups)) == [[1, 2, 4, 6], [3], [5]]
    assert groups[0][0] == 6 and groups[0][-1] == 1  # the top series first, the county's milk last


def test_filters_region_subtree_category_subtree_and_lowest_level(db_session, world, make_user):
    subs = {
        "ningbo-food": subscribe(db_session, make_user, NINGBO, "food"),
        "yinzhou-milk": subscribe(db_session, make_user, YINZHOU, MILK),
        "hangzhou": subscribe(db_session, make_user, "330100"),
        "ningbo-drugs": subscribe(db_session, make_user, NINGBO, "drug"),
        "ningbo-red": subscribe(db_session, make_user, NINGBO, "food", "red"),
    }
    run_scan(db_session, AS_OF, "test")
    told = {r.address: r.payload["alerts"] for r in outbox(db_session)}
    addr = {name: sub.email for name, sub in subs.items()}
    assert addr["hangzhou"] not in told and addr["ningbo-drugs"] not in told
    assert {(a["category"], a["region"]) for a in told[addr["yinzhou-milk"]]} == {(MILK, YINZHOU)}
    assert len(told[addr["ningbo-food"]]) > 1
    red = [a["level"] for a in told.get(addr["ningbo-red"], [])]
    yellow_or_orange = [a for a in told[addr["ningbo-food"]] if a["level"] != "red"]
    assert all(level == "red" for level in red)
    assert len(red) == len(told[addr["ningbo-food"]]) - len(yellow_or_orange)


def test_a_supervisor_is_told_only_within_their_region_and_while_a_supervisor(db_session, world, make_user):
    sub = subscribe(db_session, make_user, NINGBO)
    from core.auth.models import User, UserRole

    user = db_session.get(User, sub.user_id)
    user.region_code = YINZHOU  # moved to the county after subscribing: told about the county only
    db_session.commit()
    gone = subscribe(db_session, make_user, NINGBO)
    db_session.get(User, gone.user_id).role_rows = [UserRole(role="inspector")]
    db_session.commit()
    run_scan(db_session, AS_OF, "test")
    told = {r.address: r.payload["alerts"] for r in outbox(db_session)}
    assert gone.email not in told
    assert {a["region"] for a in told[sub.email]} == {YINZHOU}


def test_escalation_notifies_and_an_unchanged_alert_does_not(db_session, world, make_user):
    sub = subscribe(db_session, make_user, YINZHOU, MILK)
    first = run_scan(db_session, AS_OF, "test")
    assert len(outbox(db_session)) == 1
    run_scan(db_session, AS_OF, "test")  # same data: the alerts stay as they are
    assert len(outbox(db_session)) == 1, "an unchanged alert is not notified again"

    alert = active(db_session)[(MILK, YINZHOU)]
    reached = alert.level
    assert reached != "yellow", "precondition: the degrading series is above yellow"
    alert.level = "yellow"  # as if an earlier, milder scan had raised it
    db_session.commit()
    third = run_scan(db_session, AS_OF, "test")
    rows = outbox(db_session)
    assert len(rows) == 2 and rows[1].address == sub.email
    [item] = rows[1].payload["alerts"]
    assert (item["id"], item["action"], item["level"]) == (alert.id, "escalated", reached)
    db_session.expire_all()
    alert = db_session.get(Alert, alert.id)
    assert alert.group_id == rows[1].group_id != rows[0].group_id
    assert [(e.action, e.scan_id) for e in alert.events] == [("raised", first.id), ("escalated", third.id)]


def test_the_outbox_is_written_in_the_scan_transaction(db_session, world, make_user, monkeypatch):
    subscribe(db_session, make_user, NINGBO)
    from warning import scan as scan_module

    written, real_notify = [], scan_module.notify_scan

    def notify_then_fail(session, scan):
        written.append(real_notify(session, scan))
        raise RuntimeError("crash after the outbox was written")

    monkeypatch.setattr(scan_module, "notify_scan", notify_then_fail)
    with pytest.raises(RuntimeError):
        run_scan(db_session, AS_OF, "test")
    assert written and written[0] > 0, "the outbox rows had been written before the failure"
    assert outbox(db_session) == []
    assert db_session.scalar(select(func.count()).select_from(Alert)) == 0
    assert db_session.scalar(select(func.count()).select_from(AlertGroup)) == 0


def test_email_reaches_a_real_smtp_server(db_session, world, make_user, app):
    sub = subscribe(db_session, make_user, NINGBO, "food")
    run_scan(db_session, AS_OF, "test")
    server = SmtpServer().start()
    try:
        report = deliver_due(db_session, settings_for(server.port))
    finally:
        server.stop()
    rows = outbox(db_session)
    assert report.sent == len(rows) == 1 and rows[0].status == "sent" and rows[0].attempts == 1
    [(recipients, message)] = server.messages
    assert recipients == [sub.email] and message["To"] == sub.email
    body = message.get_content()
    assert "预警" in message["Subject"] and "宁波市" in body and "鄞州区" in body
    for item in rows[0].payload["alerts"]:
        assert f"https://warning.example.test/alerts/{item['id']}" in body
        assert item["reason_zh"] in body


def test_mail_server_down_for_an_hour_delays_and_loses_nothing(db_session, world, make_user):
    subs = [subscribe(db_session, make_user, NINGBO), subscribe(db_session, make_user, YINZHOU, MILK)]
    run_scan(db_session, AS_OF, "test")
    server = SmtpServer()  # its port, with nothing listening yet: the server is down
    settings = settings_for(server.port, backoff_seconds=60, backoff_max_seconds=900, max_attempts=20)
    start = utcnow()
    clock = start
    while clock < start + timedelta(hours=1):  # the worker polls every 30 s through the outage
        deliver_due(db_session, settings, now=clock)
        clock += timedelta(seconds=30)
    rows = outbox(db_session)
    assert {r.status for r in rows} == {"pending"} and len(rows) == 2
    assert all(r.attempts >= 4 and "Connection refused" in r.last_error for r in rows)
    assert all(r.attempts < 120 for r in rows), "backoff: not one attempt per poll"

    server.start()
    try:
        for _ in range(40):  # the worker goes on polling after the server is back
            deliver_due(db_session, settings, now=clock)
            clock += timedelta(seconds=30)
    finally:
        server.stop()
    assert {r.status for r in outbox(db_session)} == {"sent"}
    assert sorted(rcpt[0] for rcpt, _ in server.messages) == sorted(s.email for s in subs), "each once"


def test_webhook_signed_and_retried_with_backoff_after_500s(db_session, world, admin):
    user, _ = admin
    with WebhookReceiver(SECRET, statuses=[500, 503]) as receiver:
        hook = services.create_webhook(db_session, {"url": receiver.url, "secret": SECRET,
                                                    "region_code": NINGBO, "category_code": "food"}, user.id)
        run_scan(db_session, AS_OF, "test")
        settings = settings_for(free_port(), backoff_seconds=60, backoff_max_seconds=3600)
        now = utcnow()
        first = deliver_due(db_session, settings, now=now)
        [row] = outbox(db_session)
        assert (first.retrying, row.attempts, row.status) == (1, 1, "pending")
        assert row.next_attempt_at == pytest.approx(now + timedelta(seconds=60), abs=timedelta(seconds=1))
        assert "500" in row.last_error
        assert deliver_due(db_session, settings, now=now + timedelta(seconds=59)).retrying == 0  # not due
        deliver_due(db_session, settings, now=now + timedelta(seconds=60))  # answered 503
        row = outbox(db_session)[0]
        assert row.attempts == 2 and row.next_attempt_at == pytest.approx(
            now + timedelta(seconds=60 + 120), abs=timedelta(seconds=1)), "the wait doubles"
        assert deliver_due(db_session, settings, now=now + timedelta(seconds=180)).sent == 1
    assert [r["answered"] for r in receiver.received] == [500, 503, 200]
    assert all(r["verified"] for r in receiver.received), "every request carried a valid signature"
    assert all(abs(r["timestamp"] - time.time()) < 120 for r in receiver.received), "a current timestamp"
    assert {r["delivery_id"] for r in receiver.received} == {str(row.id)}
    payload = receiver.received[-1]["json"]
    assert payload["group_id"] == row.group_id and payload["alerts"]
    assert all(a["url"] == f"https://warning.example.test/alerts/{a['id']}" for a in payload["alerts"])
    assert outbox(db_session)[0].status == "sent" and hook.id == row.target_id


def test_a_webhook_with_the_wrong_secret_fails_verification(db_session, world, admin):
    user, _ = admin
    with WebhookReceiver("the-receivers-own-secret-000") as receiver:
        services.create_webhook(db_session, {"url": receiver.url, "secret": SECRET}, user.id)
        run_scan(db_session, AS_OF, "test")
        deliver_due(db_session, settings_for(free_port()))
    assert receiver.received and not any(r["verified"] for r in receiver.received)


def test_a_notice_failing_every_attempt_is_marked_failed(db_session, world, make_user):
    subscribe(db_session, make_user, YINZHOU, MILK)
    run_scan(db_session, AS_OF, "test")
    settings = settings_for(free_port(), backoff_seconds=1, backoff_max_seconds=1, max_attempts=3)
    clock = utcnow()
    for _ in range(5):
        deliver_due(db_session, settings, now=clock)
        clock += timedelta(seconds=2)
    [row] = outbox(db_session)
    assert (row.status, row.attempts) == ("failed", 3)


def test_two_concurrent_deliverers_never_send_a_notice_twice(app, db_session, world, make_user):
    for region in (NINGBO, YINZHOU, HAISHU, "330000") * 3:
        subscribe(db_session, make_user, region)
    run_scan(db_session, AS_OF, "test")
    expected = len(outbox(db_session))
    assert expected >= 12
    server = SmtpServer().start()
    settings = settings_for(server.port)
    start, errors = threading.Barrier(2), []

    def worker():
        with app.app_context():
            try:
                start.wait()
                deliver_due(db.session, settings)
            except Exception as exc:  # surfaced by the assertion below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=worker) for _ in range(2)]
    try:
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
    finally:
        server.stop()
    assert errors == []
    rows = outbox(db_session)
    assert {r.status for r in rows} == {"sent"} and all(r.attempts == 1 for r in rows)
    delivered = sorted(rcpt[0] for rcpt, _ in server.messages)
    assert delivered == sorted(r.address for r in rows), "every notice exactly once"


def test_a_stale_claim_is_put_back_and_sent(db_session, world, make_user):
    subscribe(db_session, make_user, YINZHOU, MILK)
    run_scan(db_session, AS_OF, "test")
    [row] = outbox(db_session)
    from warning.notify.delivery import claim

    assert claim(db_session, row.id, utcnow())
    assert not claim(db_session, row.id, utcnow()), "a claimed row cannot be claimed again"
    server = SmtpServer().start()
    try:
        settings = settings_for(server.port, stale_seconds=600)
        assert deliver_due(db_session, settings).sent == 0  # the claim is fresh: its worker may be sending
        assert deliver_due(db_session, settings, now=utcnow() + timedelta(seconds=601)).sent == 1
    finally:
        server.stop()
    assert len(server.messages) == 1


def test_the_notify_command_and_the_worker_schedule(app, db_session, world, make_user, runner):
    from core.worker import build_scheduler

    subscribe(db_session, make_user, YINZHOU, MILK)
    run_scan(db_session, AS_OF, "test")
    server = SmtpServer().start()
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=server.port)
    try:
        result = runner.invoke(args=["warning", "notify"])
    finally:
        server.stop()
        app.config.update(MAIL_SERVER="localhost", MAIL_PORT=25)
    assert result.exit_code == 0 and "notices sent 1" in result.output, result.output
    assert len(server.messages) == 1
    job = {j.id: j for j in build_scheduler(app).get_jobs()}["warning-notify"]
    assert job.trigger.interval == timedelta(seconds=app.config["NOTIFY_POLL_SECONDS"])


def test_a_supervisors_escalation_notifies_by_email_and_webhook_with_actor_and_reason(
        db_session, world, make_user, admin, client):
    admin_user, _ = admin
    colleague = subscribe(db_session, make_user, NINGBO, "food")
    elsewhere = subscribe(db_session, make_user, "330100")
    actor, actor_headers = make_user("supervisor", region=NINGBO)
    own = services.create_subscription(db_session, {"email": "actor@example.test", "region_code": NINGBO},
                                       actor.id, NINGBO)
    with WebhookReceiver(SECRET) as receiver:
        hook = services.create_webhook(db_session, {"url": receiver.url, "secret": SECRET,
                                                    "region_code": YINZHOU, "category_code": MILK}, admin_user.id)
        run_scan(db_session, AS_OF, "test")
        before = {r.id for r in outbox(db_session)}
        alert = active(db_session)[(MILK, YINZHOU)]
        scan_group = alert.group_id
        reason = "同一乳企在三个县抽检不合格，请市局统筹"
        answer = client.post(f"/api/alerts/{alert.id}/escalate", json={"note": reason}, headers=actor_headers)
        assert answer.status_code == 200 and answer.json["status"] == "escalated"

        new = [r for r in outbox(db_session) if r.id not in before]
        assert sorted((r.channel, r.address) for r in new) == [("email", colleague.email), ("webhook", receiver.url)]
        assert elsewhere.email not in {r.address for r in new} and own.email not in {r.address for r in new}, \
            "outside the filter, and the supervisor who escalated, are not told"
        db_session.expire_all()
        alert = db_session.get(Alert, alert.id)
        group = db_session.get(AlertGroup, alert.group_id)
        assert alert.group_id != scan_group and {r.group_id for r in new} == {group.id}
        assert (group.scan_id, group.user_id, group.level) == (None, actor.id, alert.level)
        for row in new:
            assert row.payload["escalated_by"] == {"id": actor.id, "username": actor.username,
                                                   "region": NINGBO, "region_name": "宁波市"}
            assert row.payload["reason"] == reason and row.payload["as_of"] == AS_OF
            [item] = row.payload["alerts"]
            assert (item["id"], item["action"], item["level"], item["status"]) == (
                alert.id, "escalated_by_user", alert.level, "escalated")

        server = SmtpServer().start()
        try:
            report = deliver_due(db_session, settings_for(server.port))
        finally:
            server.stop()
    assert report.failed == report.retrying == 0
    [message] = [m for rcpt, m in server.messages if rcpt == [colleague.email] and "上报" in m["Subject"]]
    body = message.get_content()
    assert actor.username in body and reason in body and f"/alerts/{alert.id}" in body
    [escalation] = [r for r in receiver.received if r["json"].get("escalated_by")]
    assert escalation["verified"] and escalation["json"]["reason"] == reason
    assert escalation["json"]["escalated_by"]["username"] == actor.username and hook.id == new[-1].target_id


def test_an_escalation_and_its_notices_commit_together(db_session, world, make_user, monkeypatch):
    from warning import alerts as alert_service

    subscribe(db_session, make_user, NINGBO)
    actor, _ = make_user("supervisor", region=NINGBO)
    run_scan(db_session, AS_OF, "test")
    count = len(outbox(db_session))
    alert = active(db_session)[(MILK, YINZHOU)]

    def audit_fails(*args, **kwargs):
        raise RuntimeError("audit store down")

    monkeypatch.setattr(alert_service, "audit", audit_fails)  # fails after the notices were added
    with pytest.raises(RuntimeError):
        alert_service.act_on_alert(db_session, alert.id, "escalate", "why", actor.id, NINGBO, 90.0)
    db_session.rollback()
    assert len(outbox(db_session)) == count and db_session.get(Alert, alert.id).status == "open"
    monkeypatch.undo()
    alert_service.act_on_alert(db_session, alert.id, "escalate", "why", actor.id, NINGBO, 90.0)
    assert len(outbox(db_session)) == count + 1


def _emails_delivered(db_session) -> list:
    """Deliver what is due to a local SMTP server; the (recipients, message) pairs it received."""
    server = SmtpServer().start()
    try:
        deliver_due(db_session, settings_for(server.port))
    finally:
        server.stop()
    return server.messages


def _header_block(message) -> bytes:
    return message.as_bytes().split(b"\n\n", 1)[0]


def test_a_scan_email_reads_in_chinese_with_names_figures_and_links_not_codes(db_session, world, make_user):
    county = subscribe(db_session, make_user, YINZHOU, MILK)
    city = subscribe(db_session, make_user, NINGBO, "food")
    run_scan(db_session, AS_OF, "test")
    by_rcpt = {rcpt[0]: message for rcpt, message in _emails_delivered(db_session)}
    assert sorted(by_rcpt) == sorted([county.email, city.email]), "one email each"
    for message in by_rcpt.values():
        head = _header_block(message)
        head.decode("ascii")  # 8-bit headers are mangled by some clients: every header is RFC 2047 ASCII
        assert b"=?utf-8?" in head and message.get_content_charset() == "utf-8"
        assert str(message["From"]) == "抽检预警系统 <warning@example.test>"
        assert message["Auto-Submitted"] == "auto-generated" and message["Date"].endswith("+0800")
        text = message["Subject"] + message.get_content()
        for raw in ("330212", "330200", "food.dairy", "liquid_milk", "None", "red", "2024-06", "{", "第 1 次"):
            assert raw not in text, f"{raw!r} shown to a supervisor"
    alert = active(db_session)[(MILK, YINZHOU)]
    mine = by_rcpt[county.email]
    assert mine["Subject"] == "【红色预警】宁波市鄞州区 液体乳（截至2024年6月）"
    body = mine.get_content()
    assert body.startswith("截至2024年6月的预警扫描，您订阅的范围内有 1 项预警新发或升级：\n")
    assert "1. 【红色】新预警：宁波市鄞州区 液体乳\n" in body
    assert ("   2024年4月至2024年6月合格率36.7%（60批），低于93%底线" in body
            and "2024年7月至2024年9月低于底线的概率为100%" in body)
    assert f"   查看：https://warning.example.test/alerts/{alert.id}\n" in body
    told = outbox(db_session)
    [city_row] = [r for r in told if r.address == city.email]
    n = len(city_row.payload["alerts"])
    assert n > 3 and by_rcpt[city.email]["Subject"] == f"【红色预警】宁波市 食品等{n}项（截至2024年6月）"
    assert by_rcpt[city.email].get_content().count("查看：https://warning.example.test/alerts/") == n


def test_a_raised_level_says_from_which_level_to_which(db_session, world, make_user):
    from warning.notify.words import level_zh

    sub = subscribe(db_session, make_user, YINZHOU, MILK)
    run_scan(db_session, AS_OF, "test")
    alert = active(db_session)[(MILK, YINZHOU)]
    reached, alert.level = alert.level, "yellow"
    db_session.commit()
    run_scan(db_session, AS_OF, "test")
    [message] = [m for rcpt, m in _emails_delivered(db_session) if "升级" in m["Subject"]]
    assert message["Subject"] == f"【预警升级为{level_zh(reached)}】宁波市鄞州区 液体乳（截至2024年6月）"
    assert f"1. 【{level_zh(reached)}】预警升级（黄色→{level_zh(reached)}）：宁波市鄞州区 液体乳\n" in message.get_content()
    assert outbox(db_session)[-1].address == sub.email


def test_unrelated_groups_of_one_scan_are_one_email_per_address_and_one_webhook_post_per_group(
        db_session, make_user, admin):
    from warning.models import AlertEvent, Scan
    from warning.notify.mail import compose
    from warning.notify.outbox import notify_scan

    province = subscribe(db_session, make_user, "330000")
    services.create_webhook(db_session, {"url": "https://hooks.example.test/w", "secret": SECRET}, admin[0].id)
    scan = Scan(as_of="2025-06", status="done", model_version="t", series_assessed=3, alerts_raised=3)
    db_session.add(scan)
    db_session.flush()
    for region in (XIHU, YINZHOU, HAISHU):  # three counties, no alert above them: three groups
        db_session.add(Alert(category_code=MILK, region_code=region, level="orange", status="open",
                             opened_scan_id=scan.id, last_scan_id=scan.id, probability=0.8,
                             events=[AlertEvent(action="raised", scan_id=scan.id, to_level="orange")]))
    db_session.flush()
    notify_scan(db_session, scan)
    rows = outbox(db_session)
    emails = [r for r in rows if r.channel == "email"]
    assert [r.address for r in emails] == [province.email], "one email for the scan"
    assert len(emails[0].payload["group_ids"]) == 3 == len([r for r in rows if r.channel == "webhook"])
    message = compose(emails[0].payload, emails[0].id, "w@example.test", province.email, "https://x")
    assert message["Subject"] == "【橙色预警】杭州市西湖区 液体乳等3项（截至2025年6月）"
    body = message.get_content()
    assert [line[3:] for line in body.splitlines() if line[:3] in ("1. ", "2. ", "3. ")] == [
        "【橙色】新预警：杭州市西湖区 液体乳", "【橙色】新预警：宁波市鄞州区 液体乳", "【橙色】新预警：宁波市海曙区 液体乳"]
    assert body.count("——") == 2, "the groups set apart"


def test_webhook_json_is_versioned_with_codes_names_times_and_a_delivery_id(
        db_session, world, admin, make_user, client):
    from datetime import datetime

    actor, actor_headers = make_user("supervisor", region=NINGBO)
    with WebhookReceiver(SECRET) as receiver:
        services.create_webhook(db_session, {"url": receiver.url, "secret": SECRET, "region_code": YINZHOU,
                                             "category_code": MILK}, admin[0].id)
        run_scan(db_session, AS_OF, "test")
        alert = active(db_session)[(MILK, YINZHOU)]
        client.post(f"/api/alerts/{alert.id}/escalate", json={"note": "请市局统筹"}, headers=actor_headers)
        deliver_due(db_session, settings_for(free_port()))
    scan_post, escalation_post = receiver.received
    for post, kind in ((scan_post, "scan"), (escalation_post, "escalation")):
        body = post["json"]
        assert post["verified"] and body["version"] == 1 and body["type"] == kind
        assert body["delivery_id"] == post["delivery_id"]
        assert datetime.fromisoformat(body["created_at"]).utcoffset() is not None
        assert (body["level"], body["level_name"]) == ("red", "红色") and body["as_of"] == AS_OF
        [item] = body["alerts"]
        assert {k: item[k] for k in ("id", "category", "category_name", "region", "region_name",
                                     "region_full_name", "level", "level_name", "floor", "forecast_months")} == {
            "id": alert.id, "category": MILK, "category_name": "液体乳", "region": YINZHOU, "region_name": "鄞州区",
            "region_full_name": "宁波市鄞州区", "level": "red", "level_name": "红色", "floor": 0.93,
            "forecast_months": {"from": "2024-07", "to": "2024-09"}}
        assert 0 <= item["estimated_pass_rate"] <= 1 and 0 <= item["probability"] <= 1
        assert item["url"] == f"https://warning.example.test/alerts/{alert.id}"
    assert scan_post["json"]["alerts"][0]["action"] == "raised" and "escalated_by" not in scan_post["json"]
    assert escalation_post["json"]["escalated_by"] == {"id": actor.id, "username": actor.username,
                                                       "region": NINGBO, "region_name": "宁波市"}
    assert datetime.fromisoformat(escalation_post["json"]["escalated_at"]).utcoffset() is not None


def test_an_email_about_many_alerts_lists_the_most_severe_and_sends_the_reader_to_the_inbox():
    from warning.notify.mail import LISTED, compose

    levels = ["yellow"] * 30 + ["red"] * 3 + ["orange"] * 2  # the red ones last in the scan's order
    alerts = [{"id": i, "action": "raised", "level": level, "region_name": f"县{i}", "region_full_name": f"某市县{i}",
               "category_name": "液体乳", "reason_zh": "理由", "path": f"/alerts/{i}", "group_id": i,
               "probability": 0.5} for i, level in enumerate(levels)]
    body = compose({"alerts": alerts, "level": "red", "as_of": "2024-06", "group_id": 0}, 1,
                   "warning@hz.gov.cn", "a@hz.gov.cn", "https://x").get_content()
    listed = [line for line in body.splitlines() if line[:1].isdigit()]
    assert len(listed) == LISTED and all("【红色】" in line for line in listed[:3])
    assert all("【橙色】" in line for line in listed[3:5])
    assert f"另有 {len(alerts) - LISTED} 项预警未列出" in body and "/supervision/alerts?sort=-severity" in body
