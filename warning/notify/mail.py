"""The email notice of a scan's alert groups or of an escalation: composed in Chinese, sent with smtplib."""
from __future__ import annotations

import smtplib
import ssl
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, parseaddr

from core.clock import LOCAL_TZ
from warning.engine.levels import RANK
from warning.notify.words import ACTION_ZH, level_zh, month_zh, percent, span_zh

SENDER_NAME = "抽检预警系统"
# A province-wide subscriber may be told of a hundred alerts by one scan: the email lists this
# many, the most severe first, and sends the reader to the inbox for the rest.
LISTED = 30


def _where(item: dict) -> str:
    return f"{item.get('region_full_name') or item['region_name']} {item['category_name']}"


def _headline(item: dict) -> str:
    """[红色] 预警升级（黄色→红色）：宁波市鄞州区 液体乳"""
    action = ACTION_ZH.get(item["action"], "预警")
    if item["action"] == "escalated" and item.get("from_level"):
        action += f"（{level_zh(item['from_level'])}→{level_zh(item['level'])}）"
    return f"【{level_zh(item['level'])}】{action}：{_where(item)}"


def _why(item: dict) -> str:
    """The reason the engine wrote (months, pass rate, floor, probability); else built from the figures."""
    if item.get("reason_zh"):
        return item["reason_zh"]
    parts = []
    if item.get("estimated_pass_rate") is not None:
        parts.append(f"估计合格率{percent(item['estimated_pass_rate'])}，底线{percent(item.get('floor'))}")
    parts.append(f"{span_zh(item.get('forecast_months')) or '今后几个月'}低于底线的概率为{percent(item['probability'])}")
    return "；".join(parts)


def _subject(payload: dict, alerts: list[dict]) -> str:
    level = level_zh(payload["level"])
    top = next((a for a in alerts if a["level"] == payload["level"]), alerts[0])  # the subject's level is its series'
    more = f"等{len(alerts)}项" if len(alerts) > 1 else ""
    as_of = f"（截至{month_zh(payload['as_of'])}）" if payload.get("as_of") else ""
    if payload.get("escalated_by"):
        tag = f"【上报】【{level}预警】"
    elif all(a["action"] == "escalated" for a in alerts):
        tag = f"【预警升级为{level}】"
    else:
        tag = f"【{level}预警】"
    return f"{tag}{_where(top)}{more}{as_of}"


def compose(payload: dict, outbox_id: int, sender: str, to: str, base_url: str) -> EmailMessage:
    """The message, in Chinese: a subject naming the top alert and how many more, one numbered
    paragraph per alert (where and what by name, level in words, the reason with its months,
    pass rate, floor and probability, the link), the scan's groups one after another."""
    alerts = payload["alerts"]
    base = base_url.rstrip("/")
    msg = EmailMessage()
    msg["Subject"] = _subject(payload, alerts)
    name, address = parseaddr(sender)
    msg["From"] = formataddr((name or SENDER_NAME, address or sender))
    msg["To"] = to
    msg["Date"] = format_datetime(datetime.now(LOCAL_TZ))
    # Stable per outbox row: a resend after a crash carries the same id, so mail clients can merge it.
    msg["Message-ID"] = f"<outbox-{outbox_id}.group-{payload['group_id']}@{address.rpartition('@')[2] or 'localhost'}>"
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no out-of-office replies to the system
    actor = payload.get("escalated_by")
    if actor:
        by = actor["username"] + (f"（{actor['region_name']}）" if actor.get("region_name") else " ")
        as_of = f"（依据截至{month_zh(payload['as_of'])}的扫描）" if payload.get("as_of") else ""
        lines = [f"监管人员 {by}上报了以下预警{as_of}，请关注。",
                 f"上报理由：{payload.get('reason') or '（未填写）'}", ""]
    else:
        lines = [f"截至{month_zh(payload['as_of'])}的预警扫描，您订阅的范围内有 {len(alerts)} 项预警新发或升级：", ""]
    capped = len(alerts) > LISTED
    shown = sorted(alerts, key=lambda a: -RANK[a["level"]])[:LISTED] if capped else alerts
    group = shown[0].get("group_id")
    for number, item in enumerate(shown, 1):
        if item.get("group_id") != group and not capped:  # the next group of a scan's email: set apart
            lines += ["——", ""]
        group = item.get("group_id")
        lines += [f"{number}. {_headline(item)}",
                  f"   {_why(item)}",
                  f"   查看：{base}{item['path']}", ""]
    if capped:
        lines += [f"另有 {len(alerts) - LISTED} 项预警未列出，请在系统中查看：{base}/supervision/alerts?sort=-severity", ""]
    lines.append("此邮件由抽检预警系统自动发送，请勿回复。调整订阅请登录系统：" f"{base}/supervision/subscriptions")
    msg.set_content("\n".join(lines))
    return msg


def tls_context(verify: bool = True, ca_file: str | None = None) -> ssl.SSLContext:
    """The client's TLS settings: the server's certificate and host name are checked against the
    system's trust store (or `ca_file`) unless `verify` is off (then the link is encrypted but
    the server unauthenticated: only for a test server, never across a network)."""
    context = ssl.create_default_context(cafile=ca_file or None)
    if not verify:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context


def send(msg: EmailMessage, server: str, port: int, use_tls: bool, username: str | None,
         password: str | None, timeout: float, use_ssl: bool = False,
         context: ssl.SSLContext | None = None) -> None:
    """Hand the message to the SMTP server; returns only once the server accepted it.
    `use_ssl`: TLS from the first byte (SMTPS, port 465); `use_tls`: STARTTLS (port 587)."""
    context = context or tls_context()
    if use_ssl:
        smtp = smtplib.SMTP_SSL(server, port, timeout=timeout, context=context)
    else:
        smtp = smtplib.SMTP(server, port, timeout=timeout)
    with smtp:
        if use_tls and not use_ssl:
            smtp.starttls(context=context)  # raises if the server does not offer it: no silent downgrade
        if username:
            smtp.login(username, password or "")
        refused = smtp.send_message(msg)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
