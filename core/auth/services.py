"""Account use cases: create users, issue, check and revoke API tokens, start and end web sessions."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerifyMismatchError
from sqlalchemy import bindparam, delete, func, or_, select, update
from sqlalchemy.orm import Session

from core.audit import audit
from core.auth.models import ROLES, ApiToken, User, UserRole, WebSession
from core.errors import Conflict, NotFound, ValidationFailed
from core.messages import N_
from core.models import utcnow
from core.reference.models import Region

ROLE_REQUIRED = N_("at least one role is required")
UNKNOWN_ROLES = N_("unknown role(s) %(unknown)s; choose from %(roles)s")
UNKNOWN_REGION = N_("unknown region code '%(code)s'")
BAD_USERNAME = N_("username must be 1 to 64 characters")
BAD_FULL_NAME = N_("the full name must be at most 64 characters")
USER_EXISTS = N_("user '%(username)s' already exists")
USERNAME_TAKEN = N_("the name is taken: user '%(username)s' exists (names differ by more than upper and lower case)")
SHORT_PASSWORD = N_("password must be at least %(length)s characters")
NO_USER = N_("no user %(id)s")
NO_USERNAME = N_("no user '%(username)s'")
OWN_ADMIN = N_("you cannot remove your own administrator role or disable yourself")
WRONG_PASSWORD = N_("the current password is wrong")
SAME_PASSWORD = N_("the new password must differ from the current one")
BAD_EXPIRY = N_("expiry must be 1 to 3650 days")

_hasher = PasswordHasher()
MIN_PASSWORD_LENGTH = 8


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, InvalidHashError):
        return False


_NOBODY_HASH = _hasher.hash(secrets.token_urlsafe(16))  # checked when no account answers the name


def authenticate(session: Session, username: str, password: str) -> tuple[User | None, bool]:
    """(the user named, whether the password is theirs and the account active). An unknown name
    costs the same password check as a known one: how long a wrong sign-in takes must not tell
    an outsider which usernames exist."""
    user = user_named(session, username)
    if user is None:
        try:
            _hasher.verify(_NOBODY_HASH, password)
        except VerifyMismatchError:
            pass
        return None, False
    return user, verify_password(user, password) and bool(user.active)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def user_summary(user: User) -> dict:
    return {"username": user.username, "full_name": user.full_name, "roles": sorted(user.roles),
            "region": user.region_code, "active": user.active}


def _full_name(value: str | None) -> str | None:
    """Spaces around it dropped; blank is no name (the username stands for the user)."""
    value = (value or "").strip() or None
    if value is not None and len(value) > 64:
        raise ValidationFailed.on("full_name", BAD_FULL_NAME)
    return value


def _check_roles_region(session: Session, roles: list[str], region_code: str) -> None:
    if not roles:
        raise ValidationFailed.on("roles", ROLE_REQUIRED)
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise ValidationFailed.on("roles", UNKNOWN_ROLES(unknown=unknown, roles=ROLES))
    if session.get(Region, region_code) is None:
        raise ValidationFailed.on("region", UNKNOWN_REGION(code=region_code))


def create_user(session: Session, username: str, password: str, roles: list[str],
                region_code: str, actor_id: int | None = None, full_name: str | None = None) -> User:
    """Create a user; refuse a taken username, an unknown role or region, a short password."""
    username = username.strip()
    if not username or len(username) > 64:
        raise ValidationFailed.on("username", BAD_USERNAME)
    _check_roles_region(session, roles, region_code)
    # "Supervisor" next to "supervisor" would be two accounts nobody can tell apart in a list or
    # an audit trail: names are unique whatever their case.
    taken = session.scalar(select(User.username).where(func.lower(User.username) == username.lower()))
    if taken is not None:
        raise Conflict(USER_EXISTS(username=taken), {"username": [USERNAME_TAKEN(username=taken)]})
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("password", SHORT_PASSWORD(length=MIN_PASSWORD_LENGTH))
    user = User(username=username, full_name=_full_name(full_name), password_hash=hash_password(password),
                region_code=region_code, role_rows=[UserRole(role=r) for r in sorted(set(roles))])
    session.add(user)
    session.flush()
    audit(session, actor_id, "create", "user", user.id, after=user_summary(user))
    session.commit()
    return user


def get_user(session: Session, user_id: int) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(NO_USER(id=user_id))
    return user


def list_users(session: Session, limit: int = 50, offset: int = 0) -> list[User]:
    """Accounts by username, one page at a time."""
    return list(session.scalars(select(User).order_by(func.lower(User.username), User.username).limit(limit).offset(offset)))


def update_user(session: Session, user_id: int, changes: dict, actor_id: int) -> User:
    """Change a user's full name, roles, home region or active flag (disable rather than delete)."""
    user = get_user(session, user_id)
    before = user_summary(user)
    roles = changes.get("roles", sorted(user.roles))
    region = changes.get("region", user.region_code)
    _check_roles_region(session, roles, region)
    if user.id == actor_id and ("admin" not in roles or changes.get("active") is False):
        raise ValidationFailed.on("roles", OWN_ADMIN)
    if set(roles) != user.roles:
        user.role_rows = [UserRole(role=r) for r in sorted(set(roles))]
    user.region_code = region
    if "full_name" in changes:
        user.full_name = _full_name(changes["full_name"])
    if "active" in changes:
        if user.active and not changes["active"]:
            # Ended, not merely refused while disabled: re-enabling must not revive them.
            end_web_sessions(session, user.id, "disabled")
        user.active = changes["active"]
    session.flush()
    audit(session, actor_id, "update", "user", user.id, before, user_summary(user))
    session.commit()
    return user


def change_password(session: Session, user: User, current: str, new: str,
                    keep_web_session: int | None = None) -> None:
    """Change one's own password; the current one must be given. Every web session of the user
    ends but `keep_web_session` (the browser the change was made in, if any)."""
    if not verify_password(user, current):
        raise ValidationFailed.on("current_password", WRONG_PASSWORD)
    if len(new) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed.on("new_password", SHORT_PASSWORD(length=MIN_PASSWORD_LENGTH))
    if new == current:  # above all after a reset: the temporary password was seen by someone else
        raise ValidationFailed.on("new_password", SAME_PASSWORD)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    end_web_sessions(session, user.id, "password_changed", keep=keep_web_session)
    audit(session, user.id, "change_password", "user", user.id)
    session.commit()


# No 0/O or 1/l/I: the temporary password is read out or copied by hand to its user.
_TEMPORARY_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def reset_password(session: Session, user_id: int, actor_id: int | None) -> str:
    """Give a user who cannot sign in a temporary password and return it (it is not stored, only
    its hash). Its user must choose a new one before any page opens; the old password and every
    signed-in session of the user stop working (a session names its password)."""
    user = get_user(session, user_id)
    temporary = "".join(secrets.choice(_TEMPORARY_ALPHABET) for _ in range(12))
    user.password_hash = hash_password(temporary)
    user.must_change_password = True
    end_web_sessions(session, user.id, "password_reset")
    audit(session, actor_id, "reset_password", "user", user.id)
    session.commit()
    return temporary


def user_named(session: Session, username: str) -> User | None:
    """The user of this name, its case aside ("Li" signs in as "li"): names are unique whatever
    their case. Two accounts made before that rule that differ only in case are told apart by
    the exact spelling, and neither is guessed at when it is not given."""
    users = list(session.scalars(select(User).where(func.lower(User.username) == username.lower())))
    exact = [u for u in users if u.username == username]
    return exact[0] if exact else users[0] if len(users) == 1 else None


def issue_token(session: Session, username: str, expires_days: int = 90, actor_id: int | None = None) -> str:
    """Create a random API token for the user and return it; only its digest is kept."""
    user = user_named(session, username)
    if user is None:
        raise NotFound(NO_USERNAME(username=username))
    if not 1 <= expires_days <= 3650:
        raise ValidationFailed.on("expires_days", BAD_EXPIRY)
    token = secrets.token_urlsafe(32)  # 256 bits
    row = ApiToken(user_id=user.id, digest=token_digest(token),
                   expires_at=utcnow() + timedelta(days=expires_days))
    session.add(row)
    session.flush()
    audit(session, actor_id, "issue_token", "user", user.id,
          after={"token_id": row.id, "expires_at": row.expires_at})
    session.commit()
    return token


@dataclass(frozen=True)
class Principal:
    """The caller of an API request: who the token's owner is, their roles and home region.

    A plain snapshot (not an ORM object): read with one query per request, it needs no
    session afterwards. A use case that changes the account loads the `User` by `id`.
    """

    id: int
    username: str
    region_code: str
    roles: frozenset[str]
    active: bool
    created_at: datetime

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))


# The token, its owner and the owner's roles in one round trip (one row per role). Through
# the ORM this took two queries and most of a light request's time.
TOKEN_OWNER = (select(ApiToken.expires_at, ApiToken.revoked_at, User.id, User.username, User.region_code,
                      User.active, User.created_at, UserRole.role)
               .join(User, User.id == ApiToken.user_id)
               .outerjoin(UserRole, UserRole.user_id == User.id)
               .where(ApiToken.digest == bindparam("digest")))


def user_for_token(session: Session, token: str) -> Principal | None:
    """Return the active user owning an unexpired, unrevoked token, or None."""
    return principal_of(session.connection().execute(TOKEN_OWNER, {"digest": token_digest(token)}).all())


def principal_of(rows) -> Principal | None:
    """The caller from the rows of `TOKEN_OWNER` (extra columns after them are ignored), or None."""
    if not rows:
        return None
    expires_at, revoked_at, user_id, username, region_code, active, created_at = rows[0][:7]
    if revoked_at is not None or expires_at <= utcnow() or not active:
        return None
    return Principal(user_id, username, region_code, frozenset(r[7] for r in rows if r[7] is not None),
                     bool(active), created_at)


def revoke_tokens(session: Session, username: str, actor_id: int | None = None) -> int:
    """Revoke every live token of a user; return how many."""
    user = user_named(session, username)
    if user is None:
        raise NotFound(NO_USERNAME(username=username))
    rows = session.scalars(select(ApiToken).where(ApiToken.user_id == user.id,
                                                  ApiToken.revoked_at.is_(None))).all()
    for row in rows:
        row.revoked_at = utcnow()
    audit(session, actor_id, "revoke_tokens", "user", user.id, after={"revoked": [r.id for r in rows]})
    session.commit()
    return len(rows)


def start_web_session(session: Session, user_id: int) -> str:
    """Record a browser's sign-in (committed by the caller with its audit record) and return the
    random id its cookie carries; only the id's digest is kept."""
    token = secrets.token_urlsafe(32)  # 256 bits
    now = utcnow()
    session.add(WebSession(digest=token_digest(token), user_id=user_id, created_at=now, last_seen_at=now))
    return token


def web_session_named(session: Session, token: str | None) -> WebSession | None:
    """The web session whose cookie carries `token` (ended or not), with its user; None if none."""
    if not token:
        return None
    return session.scalar(select(WebSession).where(WebSession.digest == token_digest(token)))


def web_session_ending(row: WebSession, idle: timedelta, absolute: timedelta) -> str | None:
    """Why `row` can no longer be used ('ended' if it already was), or None while it can."""
    now = utcnow()
    if row.ended_at is not None:
        return "ended"
    if now - row.created_at > absolute:
        return "expired"
    if now - row.last_seen_at > idle:
        return "idle"
    return None


def end_web_sessions(session: Session, user_id: int, reason: str, keep: int | None = None,
                     only: int | None = None) -> int:
    """End the user's open web sessions (all, all but `keep`, or `only` that one) in the caller's
    transaction; return how many. Their cookies stop working at once."""
    statement = (update(WebSession)
                 .where(WebSession.user_id == user_id, WebSession.ended_at.is_(None))
                 .values(ended_at=utcnow(), ended_reason=reason)
                 .execution_options(synchronize_session=False))
    if keep is not None:
        statement = statement.where(WebSession.id != keep)
    if only is not None:
        statement = statement.where(WebSession.id == only)
    return session.execute(statement).rowcount


def prune_web_sessions(session: Session, idle: timedelta, absolute: timedelta) -> int:
    """Delete the web sessions that can no longer be used (ended, idle or past the absolute
    limit) and return how many. Who signed in and out when stays in the audit log."""
    now = utcnow()
    deleted = session.execute(delete(WebSession).where(or_(
        WebSession.ended_at.is_not(None), WebSession.created_at < now - absolute,
        WebSession.last_seen_at < now - idle))).rowcount
    session.commit()
    return deleted
