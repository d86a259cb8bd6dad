"""Scans, their assessments, alerts with their events, and named leases."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Float, ForeignKey, Index, Integer, String, Text, select, text
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from core.models import Base, UTCDateTime, utcnow

SCAN_STATUSES = ("running", "done", "failed")
LEVELS = ("none", "blue", "yellow", "orange", "red")
ALERT_LEVELS = ("yellow", "orange", "red")  # the levels that open an alert
ALERT_STATUSES = ("open", "acknowledged", "escalated", "resolved", "dismissed")
ACTIVE_STATUSES = ("open", "acknowledged", "escalated")  # an alert still being handled
EVENT_ACTIONS = ("raised", "escalated", "lowered", "resolved", "acknowledged", "dismissed",
                 "escalated_by_user")


class AlertGroup(Base):
    """Alerts one scan raised or escalated on a series and its descendant series: one notice.
    A supervisor's escalation of one alert is a group of its own, with the user and no scan."""

    __tablename__ = "alert_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The group's top series (the one its members descend from) and its highest level.
    category_code: Mapped[str] = mapped_column(String(96))
    region_code: Mapped[str] = mapped_column(String(6))
    level: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class Scan(Base):
    __tablename__ = "scans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[str] = mapped_column(String(7), index=True)  # YYYY-MM
    started_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(16), default="running")
    series_assessed: Mapped[int] = mapped_column(Integer, default=0)
    alerts_raised: Mapped[int] = mapped_column(Integer, default=0)
    alerts_escalated: Mapped[int] = mapped_column(Integer, default=0)
    alerts_resolved: Mapped[int] = mapped_column(Integer, default=0)
    model_version: Mapped[str] = mapped_column(String(64))
    # As of a month before the newest scan's: assessments recorded, alerts left alone (scan.py).
    backfill: Mapped[bool] = mapped_column(Boolean, default=False, server_default=text("false"))
    settings: Mapped[dict] = mapped_column(JSON, default=dict)
    # Who started it: the operator's login, host, process and origin (cli, scheduler); NULL
    # for scans before migration 0013.
    run_by: Mapped[str | None] = mapped_column(String(200))


class Assessment(Base):
    __tablename__ = "assessments"
    __table_args__ = (Index("ix_assessments_series", "category_code", "region_code", "scan_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"), index=True)
    category_code: Mapped[str] = mapped_column(String(96))
    region_code: Mapped[str] = mapped_column(String(6))
    floor: Mapped[float] = mapped_column(Float)
    pass_rate: Mapped[float] = mapped_column(Float)
    pass_rate_lo: Mapped[float] = mapped_column(Float)
    pass_rate_hi: Mapped[float] = mapped_column(Float)
    slope: Mapped[float] = mapped_column(Float)  # percentage points a month
    forecast: Mapped[list] = mapped_column(JSON, default=list)  # [{month, rate, lo, hi}]
    probability: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(8))
    reasons: Mapped[dict] = mapped_column(JSON, default=dict)  # {zh, en}

    scan: Mapped[Scan] = relationship(lazy="joined")


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (
        # At most one alert being handled per series (the scan also checks before raising).
        Index("uq_alerts_active_series", "category_code", "region_code", unique=True,
              sqlite_where=text("status IN ('open', 'acknowledged', 'escalated')"),
              postgresql_where=text("status IN ('open', 'acknowledged', 'escalated')")),
        Index("ix_alerts_status_level", "status", "level"),
        # The alert list is newest first: read backwards from here it stops at the page, where
        # without it every alert was read and sorted for each request.
        Index("ix_alerts_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category_code: Mapped[str] = mapped_column(String(96))
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    level: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")
    opened_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    last_scan_id: Mapped[int] = mapped_column(ForeignKey("scans.id"))
    probability: Mapped[float] = mapped_column(Float)
    # The group of the scan that last raised or escalated it (the notice sent about it).
    group_id: Mapped[int | None] = mapped_column(ForeignKey("alert_groups.id"), index=True)
    # A dismissal holds until then, unless the series' level rises above this alert's level.
    dismissed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    events: Mapped[list["AlertEvent"]] = relationship(order_by="AlertEvent.id", lazy="selectin",
                                                      back_populates="alert")


class AlertEvent(Base):
    __tablename__ = "alert_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    scan_id: Mapped[int | None] = mapped_column(ForeignKey("scans.id"))  # the scan that made it
    action: Mapped[str] = mapped_column(String(24))
    from_level: Mapped[str | None] = mapped_column(String(8))
    to_level: Mapped[str | None] = mapped_column(String(8))
    note: Mapped[str | None] = mapped_column(Text)

    alert: Mapped[Alert] = relationship(back_populates="events")


class Lease(Base):
    """A named lease in the database, so two workers never run the same scan at once."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())


def alert_assessment(session: Session, alert: Alert) -> Assessment | None:
    """The assessment an alert's figures come from: its series in the alert's last scan."""
    return session.scalar(select(Assessment).where(
        Assessment.category_code == alert.category_code, Assessment.region_code == alert.region_code,
        Assessment.scan_id == alert.last_scan_id))
