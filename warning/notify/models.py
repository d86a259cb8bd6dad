"""Who is told about alerts (subscriptions, webhooks) and what waits to be sent (the outbox)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from core.models import Base, UTCDateTime, utcnow

CHANNELS = ("email", "webhook")
OUTBOX_STATUSES = ("pending", "sending", "sent", "failed")


class Subscription(Base):
    """A supervisor's standing request to be emailed about alerts in a region and category subtree."""

    __tablename__ = "subscriptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    email: Mapped[str] = mapped_column(String(254))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    category_code: Mapped[str] = mapped_column(String(96))  # a category code or * (all products)
    min_level: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class Webhook(Base):
    """An administrator's endpoint that receives signed JSON about alerts matching its filters."""

    __tablename__ = "webhooks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(String(2000))
    # Fernet-encrypted (warning/notify/sealing.py): signing needs the secret itself, so it is
    # recoverable with the keys, never stored readable. The API returns it only at creation.
    secret_encrypted: Mapped[str] = mapped_column(String(1000))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    category_code: Mapped[str] = mapped_column(String(96))
    min_level: Mapped[str] = mapped_column(String(8))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)


class OutboxMessage(Base):
    """One notice to one recipient, written with the alerts it tells about: of one alert group (a
    webhook, an escalation), or of every group of a scan (an email; `group_id` is the first)."""

    __tablename__ = "outbox"
    __table_args__ = (
        UniqueConstraint("group_id", "channel", "target_id"),
        Index("ix_outbox_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("alert_groups.id"), index=True)
    channel: Mapped[str] = mapped_column(String(8))
    # The subscription's user (email) or the webhook (webhook); the address is copied at writing.
    target_id: Mapped[int] = mapped_column(Integer)
    address: Mapped[str] = mapped_column(String(2000))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(8), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
