"""Blacklist (黑名单): the `blacklisted` flag on the enterprise (read by the warning scan) with a
history of every addition and removal, each with its reason.

Rules (settings): `serious_failures` adds an enterprise with FOLLOWUP_BLACKLIST_SERIOUS_FAILURES
serious failures reported within FOLLOWUP_BLACKLIST_WINDOW_MONTHS; `refused_sampling` adds one
that refused sampling within that window. Only facts reported after the enterprise's last
removal count, so an officer's removal is not undone by the same facts.
"""
from __future__ import annotations

from datetime import date
from typing import Any, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from core.audit import audit
from core.clock import LOCAL_TZ, local_today
from core.errors import Conflict, NotFound, ValidationFailed
from core.messages import N_
from core.models import utcnow
from followup.models import BlacklistEntry
from followup.services.common import add_months, check_writable, enterprise_in_scope, region_codes
from followup.services.credit import load_facts
from followup.settings import load_settings
from inspection.models import Batch, Enterprise
from inspection.services.batches import REASON_REQUIRED
from inspection.services.enterprises import NO_ENTERPRISE

BLACKLISTED = N_("enterprise %(id)s is already blacklisted")
NOT_BLACKLISTED = N_("enterprise %(id)s is not blacklisted")
# The rules' reasons are stored as their English text; declared, so a page recognises a stored
# reason and shows it in the reader's language (the serious-failures text is the one written
# before it was declared, so earlier rows are recognised too).
SERIOUS_FAILURES = N_("%(n)s serious failures within %(months)s months: %(samples)s")
REFUSED_SAMPLING = N_("refused sampling: %(sample_no)s (%(day)s)")


def history(session: Session, enterprise_id: int) -> list[BlacklistEntry]:
    return list(session.scalars(select(BlacklistEntry).where(BlacklistEntry.enterprise_id == enterprise_id)
                                .order_by(BlacklistEntry.id)))


def get_enterprise(session: Session, enterprise_id: int, scope: str | None) -> Enterprise:
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None or not enterprise_in_scope(session, enterprise, scope):
        raise NotFound(NO_ENTERPRISE(id=enterprise_id))
    return enterprise


def _change(session: Session, enterprise: Enterprise, action: str, reason: str, user_id: int | None,
            rule: str | None) -> BlacklistEntry:
    entry = BlacklistEntry(enterprise_id=enterprise.id, action=action, rule=rule, reason=reason, user_id=user_id,
                           at=utcnow())
    session.add(entry)
    enterprise.blacklisted = action == "add"
    session.flush()
    audit(session, user_id, f"blacklist_{action}", "enterprise", enterprise.id, {"blacklisted": action != "add"},
          {"blacklisted": action == "add", "reason": reason, "rule": rule})
    return entry


def _reason(reason: str | None) -> str:
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on("reason", REASON_REQUIRED)
    return reason


def _writable_enterprise(session: Session, enterprise_id: int, scope: str | None) -> Enterprise:
    # Seen where it was sampled, but its blacklist entry is kept by the region it is registered
    # in (属地管理): the list shows an officer the enterprises registered in their region, and those
    # are the ones they change.
    enterprise = get_enterprise(session, enterprise_id, scope)
    check_writable(session, enterprise.region_code, scope)
    return enterprise


def add(session: Session, enterprise_id: int, reason: str | None, user_id: int, scope: str | None) -> BlacklistEntry:
    """An officer blacklists an enterprise registered in their region, with a reason."""
    enterprise = _writable_enterprise(session, enterprise_id, scope)
    reason = _reason(reason)
    if enterprise.blacklisted:
        raise Conflict(BLACKLISTED(id=enterprise_id))
    entry = _change(session, enterprise, "add", reason, user_id, None)
    session.commit()
    return entry


def remove(session: Session, enterprise_id: int, reason: str | None, user_id: int,
           scope: str | None) -> BlacklistEntry:
    """Take an enterprise registered in the officer's region off the blacklist, with a reason."""
    enterprise = _writable_enterprise(session, enterprise_id, scope)
    reason = _reason(reason)
    if not enterprise.blacklisted:
        raise Conflict(NOT_BLACKLISTED(id=enterprise_id))
    entry = _change(session, enterprise, "remove", reason, user_id, None)
    session.commit()
    return entry


def _last_removals(session: Session, ids: list[int]) -> dict[int, date]:
    rows = session.execute(select(BlacklistEntry.enterprise_id, func.max(BlacklistEntry.at))
                           .where(BlacklistEntry.enterprise_id.in_(ids), BlacklistEntry.action == "remove")
                           .group_by(BlacklistEntry.enterprise_id))
    return {eid: at.astimezone(LOCAL_TZ).date() if at.tzinfo else at.date() for eid, at in rows}


def rule_findings(session: Session, enterprise_ids: Iterable[int] | None = None,
                  today: date | None = None) -> dict[int, tuple[str, str]]:
    """Enterprises (not yet blacklisted) that a rule says to blacklist: id -> (rule, reason)."""
    settings, today = load_settings(), today or local_today()
    since = add_months(today, -settings.blacklist_window_months)
    stmt = (select(Batch.enterprise_id).join(Enterprise, Enterprise.id == Batch.enterprise_id)
            .where(Batch.conclusion == "fail", Batch.voided_at.is_(None), Enterprise.blacklisted.is_(False),
                   func.coalesce(Batch.reported_on, Batch.sampled_on) >= since).distinct())
    if enterprise_ids is not None:
        stmt = stmt.where(Batch.enterprise_id.in_(list(enterprise_ids)))
    ids = list(session.scalars(stmt))
    if not ids:
        return {}
    facts = load_facts(session, ids, today, settings)
    removed = _last_removals(session, ids)
    found: dict[int, tuple[str, str]] = {}
    for eid in ids:
        recent = [f for f in facts[eid].failures if f.reported_on >= since and f.reported_on > removed.get(eid, date.min)]
        refusals = [f for f in recent if f.refused]
        serious = [f for f in recent if f.severity == "serious"]
        if refusals:
            found[eid] = ("refused_sampling", REFUSED_SAMPLING(sample_no=refusals[0].sample_no,
                                                              day=refusals[0].reported_on))
        elif len(serious) >= settings.blacklist_serious_failures:
            found[eid] = ("serious_failures", SERIOUS_FAILURES(n=len(serious), months=settings.blacklist_window_months,
                                                               samples=[f.sample_no for f in serious[:5]]))
    return found


def apply_rules(session: Session, enterprise_ids: Iterable[int] | None = None, today: date | None = None,
                user_id: int | None = None, commit: bool = True) -> list[BlacklistEntry]:
    """Blacklist every enterprise a rule applies to; return the entries added."""
    entries = [_change(session, session.get(Enterprise, eid), "add", reason, user_id, rule)
               for eid, (rule, reason) in sorted(rule_findings(session, enterprise_ids, today).items())]
    if commit:
        session.commit()
    return entries


def list_blacklist(session: Session, scope: str | None, region: str | None = None, history_too: bool = False,
                   limit: int = 100, offset: int = 0) -> list[dict[str, Any]]:
    """Blacklisted enterprises with the entry that put them there (or, with history, every entry),
    newest first, registered in the caller's region."""
    stmt = select(BlacklistEntry, Enterprise).join(Enterprise, Enterprise.id == BlacklistEntry.enterprise_id)
    codes = region_codes(session, region, scope)
    if codes is not None:
        stmt = stmt.where(Enterprise.region_code.in_(codes))
    if not history_too:
        latest = (select(func.max(BlacklistEntry.id)).group_by(BlacklistEntry.enterprise_id)).scalar_subquery()
        stmt = stmt.where(Enterprise.blacklisted.is_(True), BlacklistEntry.id.in_(latest))
    rows = session.execute(stmt.order_by(BlacklistEntry.id.desc()).limit(limit).offset(offset))
    return [{"entry": entry, "enterprise": enterprise} for entry, enterprise in rows]
