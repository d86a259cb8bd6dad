"""Enterprise use cases: look up by credit code, create, list."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.audit import audit
from core.errors import Conflict, NotFound, ValidationFailed
from core.messages import N_
from core.reference.trees import load_trees
from inspection.credit_code import credit_code_error, region_of
from inspection.models import Enterprise
from inspection.services.rules import UNKNOWN_REGION

CODE_REGISTERED = N_("an enterprise with credit code %(code)s is already registered")
ALREADY_REGISTERED = N_("already registered")
BAD_REGION = N_("region must be a six-digit GB/T 2260 code")
# GB/T 2260: the first two digits of every division in China name its province-level division.
PROVINCES = frozenset("11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 "
                      "61 62 63 64 65 71 81 82".split())
NO_ENTERPRISE = N_("no enterprise %(id)s")
NAME_NEEDED = N_("enterprise %(code)s is not registered; give its name to register it")
# What the audit record of a registration keeps (its `after`), however the enterprise is registered.
REGISTERED = ("credit_code", "name", "region_code", "address")


def new_enterprise(credit_code: str, name: str, user_id: int | None, address: str | None = None,
                   region_code: str | None = None) -> Enterprise:
    """Build (not add) an enterprise; its region defaults to the one in its credit code."""
    return Enterprise(**enterprise_values(credit_code, name, region_code), address=address,
                      created_by_id=user_id)


def enterprise_values(credit_code: str, name: str, region_code: str | None = None) -> dict[str, str]:
    """A new enterprise's code, name and region as columns (an import inserts them in bulk)."""
    return {"credit_code": credit_code, "name": name.strip(), "region_code": region_code or region_of(credit_code)}


def create_enterprise(session: Session, data: dict, user_id: int) -> Enterprise:
    """Register an enterprise; the credit code must be valid and not yet registered."""
    code = data["credit_code"]
    reason = credit_code_error(code)
    if reason:
        raise ValidationFailed.on("credit_code", reason)
    if session.scalar(select(Enterprise.id).where(Enterprise.credit_code == code)) is not None:
        raise Conflict(CODE_REGISTERED(code=code), {"credit_code": [ALREADY_REGISTERED]})
    region = data.get("region") or region_of(code)
    if not (len(region) == 6 and region.isdigit() and region[:2] in PROVINCES):
        raise ValidationFailed.on("region", BAD_REGION)
    regions = load_trees(session).regions
    # The registry is shared (a producer may be registered anywhere in China), but a division of
    # the province this system keeps must be one of its own, or no one's scope would cover it.
    if region not in regions and any(root[:2] == region[:2] for root in regions.roots()):
        raise ValidationFailed.on("region", UNKNOWN_REGION(code=region))
    enterprise = new_enterprise(code, data["name"], user_id, data.get("address"), region)
    session.add(enterprise)
    session.flush()
    audit_registered(session, enterprise, user_id)
    session.commit()
    return enterprise


def get_enterprise(session: Session, enterprise_id: int) -> Enterprise:
    enterprise = session.get(Enterprise, enterprise_id)
    if enterprise is None:
        raise NotFound(NO_ENTERPRISE(id=enterprise_id))
    return enterprise


def find_or_build(session: Session, credit_code: str, name: str | None, user_id: int) -> Enterprise:
    """The enterprise with this code, or a new one (added to the session) when a name is given;
    the caller audits a new one (`audit_registered`) once it is flushed and has its id."""
    enterprise = session.scalar(select(Enterprise).where(Enterprise.credit_code == credit_code))
    if enterprise is not None:
        return enterprise
    if not name:
        raise ValidationFailed.on("enterprise_name", NAME_NEEDED(code=credit_code))
    enterprise = new_enterprise(credit_code, name, user_id)
    session.add(enterprise)
    return enterprise


def audit_registered(session: Session, enterprise: Enterprise, user_id: int | None) -> None:
    """Audit the registration of a flushed enterprise (however registered: on its own or by a batch write)."""
    audit(session, user_id, "create", "enterprise", enterprise.id,
          after={f: getattr(enterprise, f) for f in REGISTERED})


def list_enterprises(session: Session, q: str | None, limit: int, offset: int) -> list[Enterprise]:
    stmt = select(Enterprise).order_by(Enterprise.id)
    if q:
        like = f"%{q}%"
        stmt = stmt.where(Enterprise.name.like(like) | (Enterprise.credit_code == q.upper()))
    return list(session.scalars(stmt.limit(limit).offset(offset)))
