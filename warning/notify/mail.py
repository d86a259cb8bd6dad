"""The email notice of one alert group: composed in Chinese, sent with smtplib."""
from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate

LEVEL_ZH = {"yellow": "黄色", "orange": "橙色", "red": "红色"}
ACTION_ZH = {"raised": "新预警", "escalated": "预警升级"}


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
    lines = [f"{payload['as_of']} 预警扫描（第 {payload['scan_id']} 次）发现以下情况：", ""]
    for item in alerts:
        lines += [f"[{LEVEL_ZH.get(item['level'], item['level'])}] {ACTION_ZH.get(item['action'], item['action'])}："
                  f"{item['region_name']}（{item['region']}） {item['category_name']}（{item['category']}）",
                  f"  不合格概率 {item['probability']:.0%}；{item['reason_zh']}",
                  f"  {base_url.rstrip('/')}{item['path']}", ""]
    lines.append("此邮件由抽检预警系统自动发送；如需调整订阅，请登录系统修改。")
    msg.set_content("\n".join(lines))
    return msg


def send(msg: EmailMessage, server: str, port: int, use_tls: bool, username: str | None,
         password: str | None, timeout: float) -> None:
    """Hand the message to the SMTP server; returns only once the server accepted it."""
    with smtplib.SMTP(server, port, timeout=timeout) as smtp:
        if use_tls:
            smtp.starttls(context=ssl.create_default_context())  # verify the server's certificate
        if username:
            smtp.login(username, password or "")
        refused = smtp.send_message(msg)
        if refused:
            raise smtplib.SMTPRecipientsRefused(refused)
