"""Enterprises, sampling batches with their test items and revisions, the series aggregate."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer,
                        String, Text, func, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base, UTCDateTime, utcnow

STAGES = ("production", "distribution", "catering", "online")
CONCLUSIONS = ("pass", "fail")
# The columns the SQL function batch_search_keys (migration 0012) takes, in order.
SEARCH_KEYS_OF = ("product", "category_code", "region_code", "sampled_on", "conclusion")
LOCAL_PREFIX = "33"  # the province's GB/T 2260 codes: an enterprise registered here is local


class Enterprise(Base):
    __tablename__ = "enterprises"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    # GB/T 2260 code; may lie outside the seeded province, so it is not a foreign key.
    region_code: Mapped[str] = mapped_column(String(6), index=True)
    address: Mapped[str | None] = mapped_column(String(255))
    # Set by the follow-up package (quality-credit blacklist); read by the warning scan.
    blacklisted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    @property
    def local(self) -> bool:
        return self.region_code.startswith(LOCAL_PREFIX)


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (
        CheckConstraint("conclusion IN ('pass', 'fail')", name="conclusion"),
        CheckConstraint("stage IS NULL OR stage IN ('production', 'distribution', 'catering', 'online')",
                        name="stage"),
        Index("ix_batches_sampled_on_id", "sampled_on", "id"),
        # Filtered lists walk these newest first from the cursor: the id makes the (sampled_on,
        # id) keyset an index range in each, so a deep page costs what the first one does.
        Index("ix_batches_category_sampled_id", "category_code", "sampled_on", "id"),
        Index("ix_batches_region_sampled_id", "region_code", "sampled_on", "id"),
        Index("ix_batches_enterprise_sampled_id", "enterprise_id", "sampled_on", "id"),
        # A category with a region: each alone matches ~1 % of the batches, together a few in
        # 10,000; combining the two ranges above read ~43,000 index entries at 2.2 million.
        # PostgreSQL only (migration 0008): on SQLite its upkeep cost imports ~20 %.
        Index("ix_batches_category_region_sampled_id", "category_code", "region_code", "sampled_on",
              "id").ddl_if(dialect="postgresql"),
        # Failed batches are ~3 %: a list of failures would otherwise filter 30 rows for each one.
        Index("ix_batches_failed_sampled_id", "sampled_on", "id",
              postgresql_where=text("conclusion = 'fail'"), sqlite_where=text("conclusion = 'fail'")),
        # The list's search (migrations 0010 to 0012, PostgreSQL only): a sample number's
        # beginning; the product's characters and two-character runs, each also within its
        # category group, with keys of the category, region, sampling month and a failure (the
        # SQL function batch_search_keys).
        Index("ix_batches_sample_no_prefix", "sample_no",
              postgresql_ops={"sample_no": "varchar_pattern_ops"}).ddl_if(dialect="postgresql"),
        Index("ix_batches_batch_search_keys", func.batch_search_keys(*(text(c) for c in SEARCH_KEYS_OF)),
              postgresql_using="gin").ddl_if(dialect="postgresql"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    sample_no: Mapped[str] = mapped_column(String(64), unique=True)
    sampled_on: Mapped[date] = mapped_column(Date)
    reported_on: Mapped[date | None] = mapped_column(Date)
    category_code: Mapped[str] = mapped_column(ForeignKey("categories.code"))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    enterprise_id: Mapped[int | None] = mapped_column(ForeignKey("enterprises.id"))
    # Seller or producer named without a credit code (farm produce bought at markets).
    producer_name: Mapped[str | None] = mapped_column(String(200))
    product: Mapped[str | None] = mapped_column(String(200))
    brand: Mapped[str | None] = mapped_column(String(100))
    specification: Mapped[str | None] = mapped_column(String(100))
    lot: Mapped[str | None] = mapped_column(String(100))
    production_date: Mapped[date | None] = mapped_column(Date)
    stage: Mapped[str | None] = mapped_column(String(16))
    sampling_agency: Mapped[str | None] = mapped_column(String(200))
    laboratory: Mapped[str | None] = mapped_column(String(200))
    report_no: Mapped[str | None] = mapped_column(String(100))
    conclusion: Mapped[str] = mapped_column(String(4))
    fail_reason: Mapped[str | None] = mapped_column(String(500))
    # Producer registered in the province at the time of recording (policy floors are
    # about locally produced goods); kept on the batch so the aggregate is reproducible.
    local: Mapped[bool] = mapped_column(Boolean, default=False)
    version: Mapped[int] = mapped_column(Integer, default=1)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    void_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    import_id: Mapped[int | None] = mapped_column(ForeignKey("import_runs.id"))

    items: Mapped[list["TestItem"]] = relationship(
        back_populates="batch", cascade="all, delete-orphan", order_by="TestItem.id", lazy="selectin")
    enterprise: Mapped[Enterprise | None] = relationship(lazy="joined")

    # Optimistic locking: an UPDATE that finds another version raises StaleDataError (412).
    __mapper_args__ = {"version_id_col": version}


class TestItem(Base):
    __tablename__ = "test_items"
    __test__ = False  # not a pytest class

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    value: Mapped[str | None] = mapped_column(String(100))  # "0.12", "未检出" (not detected)
    unit: Mapped[str | None] = mapped_column(String(32))
    limit: Mapped[str | None] = mapped_column(String(100))  # "≤0.5"
    standard: Mapped[str | None] = mapped_column(String(200))
    verdict: Mapped[str] = mapped_column(String(4))

    batch: Mapped[Batch] = relationship(back_populates="items")


class BatchRevision(Base):
    """The previous content of a batch, kept whenever it is amended or voided."""

    __tablename__ = "batch_revisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("batches.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)  # the version this snapshot held
    action: Mapped[str] = mapped_column(String(8))  # amend | void
    reason: Mapped[str] = mapped_column(String(500))
    snapshot: Mapped[dict] = mapped_column(JSON)
    changed_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class SeriesMonth(Base):
    """Batches sampled and failed per (category node, region node, month, local producer).

    Kept current in the transaction of every batch write, so statistics and scans read this
    small table instead of the batches. `category_code` is `*` for all products.
    """

    __tablename__ = "series_months"
    # SQLite keeps the rows in the key's own B-tree (migration 0008): one tree per upsert.
    __table_args__ = {"sqlite_with_rowid": False}

    category_code: Mapped[str] = mapped_column(String(96), primary_key=True)
    region_code: Mapped[str] = mapped_column(String(6), primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # YYYY-MM
    local: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    batches: Mapped[int] = mapped_column(Integer, default=0)
    failed: Mapped[int] = mapped_column(Integer, default=0)


class ImportRun(Base):
    """One bulk import: who sent which file, and what became of each row."""

    __tablename__ = "import_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(Integer)
    atomic: Mapped[bool] = mapped_column(Boolean, default=False)
    accepted: Mapped[int] = mapped_column(Integer, default=0)
    unchanged: Mapped[int] = mapped_column(Integer, default=0)
    rejected: Mapped[int] = mapped_column(Integer, default=0)
    report: Mapped[dict | None] = mapped_column(JSON)
    error: Mapped[str | None] = mapped_column(Text)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
