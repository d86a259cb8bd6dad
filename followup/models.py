"""Working-day calendar, disposals, retests, objections, cases with their events, blacklist history."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, Float, ForeignKey, Index, Integer,
                        String, Text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base, UTCDateTime, utcnow
from inspection.models import Enterprise

SEVERITIES = ("minor", "general", "serious")
DISPOSAL_STATUSES = ("open", "closed")
RETEST_STATUSES = ("requested", "concluded")
OBJECTION_SUBJECTS = ("sampling", "method", "other")
OBJECTION_STATUSES = ("open", "upheld", "rejected")
CASE_KINDS = ("recall", "traceability")
CASE_SOURCES = ("batch", "alert", "none")
CASE_STATUSES = ("open", "investigating", "action_taken", "closed", "cancelled")
RECALL_LEVELS = ("I", "II", "III")
PRODUCT_TYPES = ("food", "drug", "farm", "industrial")
EVENT_KINDS = ("opened", "transition", "action", "update")
BLACKLIST_ACTIONS = ("add", "remove")


class CalendarDay(Base):
    """A date whose working status differs from the weekday rule (holiday, make-up working day)."""

    __tablename__ = "calendar_days"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Disposal(Base):
    """The regulator's handling (核查处置) of one failed batch; created on its first record."""

    __tablename__ = "disposals"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'closed')", name="status"),
        CheckConstraint("severity IN ('minor', 'general', 'serious')", name="severity"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)
    status: Mapped[str] = mapped_column(String(8), default="open")
    severity: Mapped[str] = mapped_column(String(8), default="general")
    # The day the producer was told of the failure: the retest window counts from it.
    notified_on: Mapped[date | None] = mapped_column(Date)
    unit_notified_on: Mapped[date | None] = mapped_column(Date)  # the sampled unit (seller)
    measures: Mapped[str | None] = mapped_column(Text)  # traced, withdrawn, recalled ...
    cause: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(Text)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Retest(Base):
    """A producer's retest (复检) at another laboratory; its conclusion is final."""

    __tablename__ = "retests"
    __table_args__ = (CheckConstraint("status IN ('requested', 'concluded')", name="status"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), unique=True)  # one per batch
    applied_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date)  # the last day an application was accepted
    applicant: Mapped[str | None] = mapped_column(String(200))
    laboratory: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12), default="requested")
    conclusion: Mapped[str | None] = mapped_column(String(4))
    report_no: Mapped[str | None] = mapped_column(String(100))
    concluded_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    concluded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class Objection(Base):
    """An objection (异议) about the sampling or the test method, recorded and decided."""

    __tablename__ = "objections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    raised_on: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(12))
    grounds: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="open")
    decision: Mapped[str | None] = mapped_column(Text)
    decided_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class CaseBatch(Base):
    __tablename__ = "case_batches"

    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), primary_key=True, index=True)


class Case(Base):
    """A recall or traceability investigation, with its deadlines and every step taken."""

    __tablename__ = "cases"
    __table_args__ = (
        CheckConstraint("status IN ('open', 'investigating', 'action_taken', 'closed', 'cancelled')",
                        name="status"),
        CheckConstraint("kind IN ('recall', 'traceability')", name="kind"),
        CheckConstraint("level IS NULL OR level IN ('I', 'II', 'III')", name="level"),
        Index("ix_cases_status_region", "status", "region_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(String(200))
    source: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="open")
    # The batch's region when opened from one, else the enterprise's: what scopes the case.
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"), index=True)
    alert_id: Mapped[int | None] = mapped_column(ForeignKey("alerts.id"), index=True)
    product_type: Mapped[str] = mapped_column(String(12))  # picks the recall rules
    level: Mapped[str | None] = mapped_column(String(3))
    quantity_concerned: Mapped[float | None] = mapped_column(Float)
    quantity_recovered: Mapped[float | None] = mapped_column(Float)
    unit: Mapped[str | None] = mapped_column(String(16))
    distribution: Mapped[list] = mapped_column(JSON, default=list)  # region codes reached
    recovered_disposal: Mapped[str | None] = mapped_column(Text)  # destroyed, reworked ...
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime())  # recall started / users notified
    start_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    complete_due_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(Text)
    cancel_reason: Mapped[str | None] = mapped_column(Text)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    opened_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")
    batch_links: Mapped[list[CaseBatch]] = relationship(lazy="selectin", cascade="all, delete-orphan")
    events: Mapped[list["CaseEvent"]] = relationship(order_by="CaseEvent.id", lazy="selectin",
                                                     back_populates="case")

    @property
    def batch_ids(self) -> list[int]:
        return sorted(link.batch_id for link in self.batch_links)


class CaseEvent(Base):
    """Who did what to a case, and when: transitions, actions taken, field changes."""

    __tablename__ = "case_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(12))
    from_status: Mapped[str | None] = mapped_column(String(16))
    to_status: Mapped[str | None] = mapped_column(String(16))
    what: Mapped[str] = mapped_column(Text)
    details: Mapped[dict | None] = mapped_column(JSON)

    case: Mapped[Case] = relationship(back_populates="events")


class BlacklistEntry(Base):
    """One change of an enterprise's blacklist flag: added (by a rule or an officer) or removed."""

    __tablename__ = "blacklist_entries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    enterprise_id: Mapped[int] = mapped_column(ForeignKey("enterprises.id"), index=True)
    action: Mapped[str] = mapped_column(String(8))
    rule: Mapped[str | None] = mapped_column(String(32))  # None when an officer decided
    reason: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
