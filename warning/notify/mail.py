"""The email notice of one alert group: composed in Chinese, sent with smtplib."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

LEVEL_ZH = {"yellow": "黄色", "orange": "橙色", "red": "红色"}
ACTION_ZH = {"raised": "新预警", "escalated": "预警升级", "escalated_by_user": "人工上报"}


def compose(payload: dict, outbox_id: int, sender: str, to: str, base_url: str) -> EmailMessage:
    """The message: a subject naming the top alert, one paragraph per alert with its link."""
    alerts = payload["alerts"]
    top = alerts[0]
    more = f"等{len(alerts)}条" if len(alerts) > 1 else ""
    msg = EmailMessage()
    msg["Subject"] = (f"【{LEVEL_ZH.get(payload['level'], payload['level'])}预警】"
                      f"{top['region_name']} {top['category_name']}{more}（{payload['as_of']}）")
    msg["From"], msg["To"] = sender, to
    msg["Date"] = formatdate(localtime=False)
    # Stable per outbox row: a resend after a crash carries the same id, so mail clients can merge it.
    msg["Message-ID"] = f"<outbox-{outbox_id}.group-{payload['group_id']}@{sender.rpartition('@')[2] or 'localhost'}>"
    actor = payload.get("escalated_by")
    if actor:
        lines = [f"监管人员 {actor['username']} 上报了以下预警（{payload['as_of']} 扫描）。",
                 f"理由：{payload.get('reason') or '（未填写）'}", ""]
        msg.replace_header("Subject", f"【上报】{msg['Subject']}")
    else:
        lines = [f"{payload['as_of']} 预警扫描（第 {payload['scan_id']} 次）发现以下情况：", ""]
    for item in alerts:
        # The reason names the months its probability is about; without one, the bare figure.
        why = item["reason_zh"] or f"低于底线的概率 {item['probability']:.0%}"
        lines += [f"[{LEVEL_ZH.get(item['level'], item['level'])}] {ACTION_ZH.get(item['action'], item['action'])}："
                  f"{item['region_name']}（{item['region']}） {item['category_name']}（{item['category']}）",
                  f"  {why}",
                  f"  {base_url.rstrip('/')}{item['path']}", ""]
    lines.append("此邮件由抽检预警系统自动发送；如需调整订阅，请登录系统修改。")
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
