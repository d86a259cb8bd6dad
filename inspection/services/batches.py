"""Batch use cases: record, read, amend (optimistically locked) and void. Nothing is deleted."""
from __future__ import annotations

from datetime import date
from types import SimpleNamespace
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.engine import Connection
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.audit import audit, insert_audit
from core.auth.permissions import outside_region
from core.clock import local_today
from core.database import unique_violated
from core.errors import Conflict, NotFound, PreconditionFailed, ValidationFailed
from core.messages import N_
from core.models import utcnow
from core.reference.trees import Trees, load_trees
from inspection.aggregates import Deltas
from inspection.models import LOCAL_PREFIX, Batch, BatchRevision, Enterprise, TestItem
from inspection.services.enterprises import (NAME_NEEDED, REGISTERED, audit_registered, enterprise_values,
                                             find_or_build)
from inspection.services.rules import check_batch, check_written_text

# Fields a form or API body may set; `category`/`region` map to the *_code columns.
BATCH_FIELDS = ("sampled_on", "reported_on", "product", "brand", "specification", "lot",
                "production_date", "stage", "sampling_agency", "laboratory", "report_no",
                "conclusion", "fail_reason", "producer_name")
ITEM_FIELDS = ("item", "value", "unit", "limit", "standard", "verdict")
INVALID = N_("invalid batch: %(field)s: %(reason)s")
SAMPLE_RECORDED = N_("sample number %(sample_no)s is already recorded")
ALREADY_RECORDED = N_("already recorded")
NO_BATCH = N_("no batch %(id)s")
VOID = N_("batch %(id)s is void and can no longer change")
STALE = N_("batch %(id)s is at version %(version)s, not %(expected)s; reload it and retry")
REASON_REQUIRED = N_("a reason is required")
NOT_AMENDABLE = N_("these fields cannot be amended: %(fields)s")
CANNOT_BE_AMENDED = N_("cannot be amended")
NOTHING_CHANGED = N_("nothing changed: the amendment leaves the batch as it is")


def batch_to_data(batch: Batch) -> dict[str, Any]:
    """The batch's content in input form (what `create_batch` takes)."""
    data = {f: getattr(batch, f) for f in BATCH_FIELDS}
    data.update(sample_no=batch.sample_no, category=batch.category_code, region=batch.region_code,
                enterprise_credit_code=batch.enterprise.credit_code if batch.enterprise else None,
                items=[{f: getattr(i, f) for f in ITEM_FIELDS} for i in batch.items])
    return data


def snapshot(batch: Batch) -> dict[str, Any]:
    """JSON-safe copy of a batch, kept in its revision history."""
    data = batch_to_data(batch)
    for key, value in data.items():
        if isinstance(value, date):
            data[key] = value.isoformat()
    data.update(version=batch.version, local=batch.local, voided=batch.voided_at is not None)
    return data


def _raise_problems(problems: list[tuple[str, str]]) -> None:
    if problems:
        errors: dict[str, list[str]] = {}
        for field, reason in problems:
            errors.setdefault(field, []).append(reason)
        field, reason = problems[0]
        raise ValidationFailed(INVALID(field=field, reason=reason), errors)


def _apply(batch: Batch, data: dict[str, Any], session: Session, user_id: int) -> None:
    # No autoflush: the enterprise lookup must not flush a half-applied batch (two UPDATEs
    # would bump its version twice).
    with session.no_autoflush:
        _apply_fields(batch, data, session, user_id)


def _apply_fields(batch: Batch, data: dict[str, Any], session: Session, user_id: int) -> None:
    for f in BATCH_FIELDS:
        setattr(batch, f, data.get(f))
    batch.category_code, batch.region_code = data["category"], data["region"]
    code = data.get("enterprise_credit_code")
    if code:
        batch.enterprise = find_or_build(session, code, data.get("enterprise_name"), user_id)
        batch.producer_name = None
    else:
        batch.enterprise = None
        batch.producer_name = data.get("producer_name") or data.get("enterprise_name")
    batch.local = batch.enterprise is not None and batch.enterprise.local
    batch.items = [TestItem(**{f: i.get(f) for f in ITEM_FIELDS}) for i in data.get("items") or []]


def in_scope(trees: Trees, scope: str | None, region: str) -> bool:
    """Whether `region` lies in the subtree `scope` (None: no limit)."""
    return scope is None or region in trees.regions.subtree(scope)


def _check_scope(trees: Trees, scope: str | None, region: str) -> None:
    if not in_scope(trees, scope, region):
        raise outside_region(region, scope)


class Recorded(SimpleNamespace):
    """A batch, enterprise or test item as `create_batch` just wrote it: the row's values under
    the model's attribute names (what `snapshot` and `BatchSchema` read), no ORM object."""


BRIEF_ENTERPRISE = ("id", "credit_code", "name", "region_code", "blacklisted")
_ENTERPRISE_BY_CODE = select(*(Enterprise.__table__.c[c] for c in BRIEF_ENTERPRISE)).where(
    Enterprise.__table__.c.credit_code == bindparam("code"))
_INSERT_ENTERPRISE = insert(Enterprise.__table__).returning(Enterprise.__table__.c.id)
_INSERT_BATCH = insert(Batch.__table__).returning(Batch.__table__.c.id)
_INSERT_ITEMS = insert(TestItem.__table__)
_BATCH_COLUMNS = tuple(c.name for c in Batch.__table__.columns if c.name != "id")


def _enterprise_for(conn: Connection, code: str, name: str | None, user_id: int) -> Recorded:
    """The enterprise with this code, registered now when it is new and a name is given (as
    `find_or_build`, with Core statements)."""
    row = conn.execute(_ENTERPRISE_BY_CODE, {"code": code}).first()
    if row is not None:
        return Recorded(**row._asdict())
    if not name:
        raise ValidationFailed.on("enterprise_name", NAME_NEEDED(code=code))
    values = {**enterprise_values(code, name), "address": None, "blacklisted": False,
              "created_at": utcnow(), "created_by_id": user_id}
    enterprise_id = conn.execute(_INSERT_ENTERPRISE, values).scalar_one()
    insert_audit(conn, user_id, "create", "enterprise", enterprise_id, after={c: values[c] for c in REGISTERED})
    return Recorded(id=enterprise_id, **{c: values[c] for c in BRIEF_ENTERPRISE[1:]})


def create_batch(session: Session, data: dict[str, Any], user_id: int, scope: str | None = None) -> Recorded:
    """Record a new batch and count it in the series aggregate, in one transaction.

    Core statements, not the ORM's unit of work (it was most of an API write's CPU): the
    enterprise (looked up or registered), the batch, its items, the audit record and the
    aggregate upsert, then the commit. The answer is built from the values written.
    """
    trees = load_trees(session)
    _raise_problems(check_batch(data, trees, local_today()) + check_written_text(data))
    _check_scope(trees, scope, data["region"])
    conn = session.connection()
    batch = Recorded(**{**dict.fromkeys(_BATCH_COLUMNS), **{f: data.get(f) for f in BATCH_FIELDS}})
    batch.sample_no, batch.category_code, batch.region_code = data["sample_no"], data["category"], data["region"]
    batch.version, batch.created_at, batch.created_by_id = 1, utcnow(), user_id
    try:
        code = data.get("enterprise_credit_code")
        if code:
            batch.enterprise = _enterprise_for(conn, code, data.get("enterprise_name"), user_id)
            batch.enterprise_id, batch.producer_name = batch.enterprise.id, None
        else:
            batch.enterprise = None
            batch.producer_name = data.get("producer_name") or data.get("enterprise_name")
        batch.local = batch.enterprise is not None and batch.enterprise.region_code.startswith(LOCAL_PREFIX)
        batch.id = conn.execute(_INSERT_BATCH, {c: getattr(batch, c) for c in _BATCH_COLUMNS}).scalar_one()
    except IntegrityError as exc:  # a taken sample number: the unique index says so, no query first
        session.rollback()
        if unique_violated(exc, Batch.__table__, "sample_no"):
            raise Conflict(SAMPLE_RECORDED(sample_no=data["sample_no"]),
                           {"sample_no": [ALREADY_RECORDED]}) from None
        raise
    batch.items = [Recorded(**{f: i.get(f) for f in ITEM_FIELDS}) for i in data.get("items") or []]
    if batch.items:  # in their order: the items' ids keep it (a batch lists them by id)
        conn.execute(_INSERT_ITEMS, [{"batch_id": batch.id, **vars(i)} for i in batch.items])
    insert_audit(conn, user_id, "create", "batch", batch.id, after=snapshot(batch))
    # The aggregate last: every write of a month updates the same province rows, locked from
    # here to the commit.
    deltas = Deltas(trees)
    deltas.add_batch(batch)
    deltas.apply(session)
    session.commit()
    return batch


def get_batch(session: Session, batch_id: int, scope: str | None = None) -> Batch:
    """The batch, or 404 when it does not exist or lies outside the caller's region."""
    batch = session.get(Batch, batch_id)
    if batch is None or not in_scope(load_trees(session), scope, batch.region_code):
        raise NotFound(NO_BATCH(id=batch_id))
    return batch


def batch_by_sample_no(session: Session, sample_no: str, scope: str | None = None) -> Batch | None:
    """The batch with this sample number, if it lies within the caller's region."""
    batch = session.scalar(select(Batch).where(Batch.sample_no == sample_no))
    return batch if batch is not None and in_scope(load_trees(session), scope, batch.region_code) else None


def _guard(batch: Batch, expected_version: int | None) -> None:
    if batch.voided_at is not None:
        raise Conflict(VOID(id=batch.id))
    if expected_version is not None and expected_version != batch.version:
        raise PreconditionFailed(STALE(id=batch.id, version=batch.version, expected=expected_version))


def _revise(session: Session, batch: Batch, action: str, reason: str, user_id: int) -> None:
    if not reason or not reason.strip():
        raise ValidationFailed.on("reason", REASON_REQUIRED)
    session.add(BatchRevision(batch_id=batch.id, version=batch.version, action=action,
                              reason=reason.strip(), snapshot=snapshot(batch), changed_by_id=user_id))


def _content(snap: Any) -> Any:
    """A snapshot compared as content: blank text and no text are the same."""
    if isinstance(snap, dict):
        return {k: _content(v) for k, v in snap.items()}
    if isinstance(snap, list):
        return [_content(v) for v in snap]
    return None if snap == "" else snap


def amend_batch(session: Session, batch_id: int, changes: dict[str, Any], reason: str,
                expected_version: int, user_id: int, scope: str | None = None) -> Batch:
    """Correct a batch; the previous version is kept and the aggregate follows the change."""
    batch = get_batch(session, batch_id, scope)
    _guard(batch, expected_version)
    unknown = set(changes) - set(BATCH_FIELDS) - {"category", "region", "enterprise_credit_code",
                                                  "enterprise_name", "items"}
    if unknown:
        raise ValidationFailed(NOT_AMENDABLE(fields=sorted(unknown)), {f: [CANNOT_BE_AMENDED] for f in sorted(unknown)})
    trees = load_trees(session)
    merged = {**batch_to_data(batch), **changes}
    if "enterprise_name" in changes and "producer_name" not in changes and not merged.get("enterprise_credit_code"):
        # Without a code the name given is the seller's (producer_name): it replaces the stored
        # one rather than lose to it (the page sends the one name field it shows).
        merged["producer_name"] = changes["enterprise_name"]
    _raise_problems(check_batch(merged, trees, local_today()) + check_written_text(changes))
    _check_scope(trees, scope, merged["region"])
    before = snapshot(batch)
    _revise(session, batch, "amend", reason, user_id)
    deltas = Deltas(trees)
    deltas.add_batch(batch, -1)
    _apply(batch, merged, session, user_id)
    if _content(snapshot(batch)) == _content(before):
        # A version saying "amended" about nothing would bury the real corrections in the
        # history; nothing is flushed yet, so the rollback drops the pending revision too.
        session.rollback()
        raise ValidationFailed(NOTHING_CHANGED)
    batch.updated_at, batch.updated_by_id = utcnow(), user_id
    registered = batch.enterprise if batch.enterprise is not None and batch.enterprise.id is None else None
    session.flush()  # the versioned UPDATE: a concurrent amendment fails here (412)
    if registered is not None:  # the amendment named an enterprise not registered yet
        audit_registered(session, registered, user_id)
    deltas.add_batch(batch, +1)
    deltas.apply(session)
    audit(session, user_id, "amend", "batch", batch.id, before, {**snapshot(batch), "reason": reason})
    session.commit()
    return batch


def void_batch(session: Session, batch_id: int, reason: str, expected_version: int | None,
               user_id: int, scope: str | None = None) -> Batch:
    """Withdraw a batch from every statistic, keeping it and its history."""
    batch = get_batch(session, batch_id, scope)
    _guard(batch, expected_version)
    trees = load_trees(session)
    _revise(session, batch, "void", reason, user_id)
    deltas = Deltas(trees)
    deltas.add_batch(batch, -1)
    batch.voided_at, batch.void_reason = utcnow(), reason.strip()
    batch.updated_at, batch.updated_by_id = batch.voided_at, user_id
    session.flush()
    deltas.apply(session)
    audit(session, user_id, "void", "batch", batch.id, {"voided": False}, {"voided": True, "reason": batch.void_reason})
    session.commit()
    return batch


def list_revisions(session: Session, batch_id: int, scope: str | None = None) -> list[BatchRevision]:
    get_batch(session, batch_id, scope)
    return list(session.scalars(select(BatchRevision).where(BatchRevision.batch_id == batch_id)
                                .order_by(BatchRevision.id)))
