"""Deliver the outbox: claim a due row exclusively, send it, record the outcome.

A row is claimed with a conditional UPDATE (pending and due -> sending), so two workers never
send the same row. It is marked sent only after the SMTP server or the webhook accepted it;
a failure puts it back with exponential backoff until `max_attempts`, then marks it failed.
A worker that dies between sending and recording leaves its row `sending`; after
`stale_seconds` the row is put back and sent again (at least once: the message id and
the X-Delivery-Id header stay the same, so the copy can be recognised).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Mapping

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from core.models import utcnow
from warning.notify import mail, sealing, webhook
from warning.notify.models import OutboxMessage, Webhook

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class DeliverySettings:
    base_url: str
    mail_server: str
    mail_port: int
    mail_from: str
    mail_use_tls: bool = False
    mail_use_ssl: bool = False
    mail_tls_verify: bool = True
    mail_ca_file: str | None = None
    mail_username: str | None = None
    mail_password: str | None = None
    timeout: float = 10.0
    backoff_seconds: float = 60.0
    backoff_max_seconds: float = 3600.0
    max_attempts: int = 12
    stale_seconds: float = 600.0

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "DeliverySettings":
        return cls(base_url=config["BASE_URL"], mail_server=config["MAIL_SERVER"],
                   mail_port=int(config["MAIL_PORT"]), mail_from=config["MAIL_FROM"],
                   mail_use_tls=bool(config["MAIL_USE_TLS"]), mail_use_ssl=bool(config["MAIL_USE_SSL"]),
                   mail_tls_verify=bool(config["MAIL_TLS_VERIFY"]), mail_ca_file=config["MAIL_CA_FILE"] or None,
                   mail_username=config["MAIL_USERNAME"] or None,
                   mail_password=config["MAIL_PASSWORD"] or None, timeout=float(config["NOTIFY_TIMEOUT_SECONDS"]),
                   backoff_seconds=float(config["NOTIFY_BACKOFF_SECONDS"]),
                   backoff_max_seconds=float(config["NOTIFY_BACKOFF_MAX_SECONDS"]),
                   max_attempts=int(config["NOTIFY_MAX_ATTEMPTS"]),
                   stale_seconds=float(config["NOTIFY_STALE_SECONDS"]))

    def backoff(self, attempts: int) -> timedelta:
        """The wait after the `attempts`-th failure: doubling from the base, capped."""
        return timedelta(seconds=min(self.backoff_seconds * 2 ** (attempts - 1), self.backoff_max_seconds))


@dataclass
class DeliveryReport:
    sent: int = 0
    retrying: int = 0
    failed: int = 0


def claim(session: Session, outbox_id: int, now: datetime) -> bool:
    """Take one due row for sending; False when another worker took it first."""
    taken = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == outbox_id, OutboxMessage.status == "pending",
               OutboxMessage.next_attempt_at <= now)
        .values(status="sending", claimed_at=now)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return bool(taken)


def requeue_stale(session: Session, settings: DeliverySettings, now: datetime) -> int:
    """Put back rows left `sending` by a worker that died before recording the outcome."""
    count = session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.status == "sending",
               OutboxMessage.claimed_at < now - timedelta(seconds=settings.stale_seconds))
        .values(status="pending", claimed_at=None)
        .execution_options(synchronize_session=False)).rowcount
    session.commit()
    return count


def _send(session: Session, row: OutboxMessage, settings: DeliverySettings) -> None:
    if row.channel == "email":
        message = mail.compose(row.payload, row.id, settings.mail_from, row.address, settings.base_url)
        mail.send(message, settings.mail_server, settings.mail_port, settings.mail_use_tls,
                  settings.mail_username, settings.mail_password, settings.timeout, settings.mail_use_ssl,
                  mail.tls_context(settings.mail_tls_verify, settings.mail_ca_file))
        return
    hook = session.get(Webhook, row.target_id)
    if hook is None or not hook.active:
        raise RuntimeError(f"webhook {row.target_id} was deactivated")
    # The secret is read now, so a rotated secret signs the retries too.
    webhook.post(hook.url, sealing.unseal(hook.secret_encrypted),
                 webhook.body_of(row.payload, row.id, settings.base_url, row.created_at), row.id, settings.timeout)


def deliver_due(session: Session, settings: DeliverySettings, now: datetime | None = None,
                limit: int = 200) -> DeliveryReport:
    """Send the outbox rows due at `now` (default: the present), oldest first."""
    now = now or utcnow()
    report = DeliveryReport()
    requeue_stale(session, settings, now)
    due = session.scalars(select(OutboxMessage.id)
                          .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now)
                          .order_by(OutboxMessage.id).limit(limit)).all()
    session.commit()
    for outbox_id in due:
        if not claim(session, outbox_id, now):
            continue
        row = session.get(OutboxMessage, outbox_id)
        row.attempts += 1
        try:
            _send(session, row, settings)
        except Exception as exc:  # any failure is recorded on the row and retried
            row.last_error = f"{type(exc).__name__}: {exc}"[:2000]
            if row.attempts >= settings.max_attempts:
                row.status = "failed"
                report.failed += 1
                log.error("notice %s to %s failed for good after %s attempts: %s", row.id, row.address,
                          row.attempts, row.last_error)
            else:
                row.status, row.next_attempt_at = "pending", now + settings.backoff(row.attempts)
                report.retrying += 1
                log.warning("notice %s to %s failed (attempt %s), next at %s: %s", row.id, row.address,
                            row.attempts, row.next_attempt_at, row.last_error)
        else:
            row.status, row.sent_at, row.last_error = "sent", utcnow(), None
            report.sent += 1
        session.commit()
    return report
