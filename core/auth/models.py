"""Users, their roles and their API tokens."""
from __future__ import annotations

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from core.models import Base, UTCDateTime, utcnow

ROLES = ("inspector", "supervisor", "agency", "admin")


def display_name(username: str, full_name: str | None) -> str:
    return f"{full_name} ({username})" if full_name else username


class User(UserMixin, Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(64))  # as records name the officer

    password_hash: Mapped[str] = mapped_column(String(255))
    region_code: Mapped[str] = mapped_column(ForeignKey("regions.code"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # Set by an administrator's reset: the temporary password only opens the change-password page.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    role_rows: Mapped[list["UserRole"]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin")

    @property
    def roles(self) -> set[str]:
        return {r.role for r in self.role_rows}

    @property
    def display_name(self) -> str:
        """How pages name the user: the full name with the login name, or the login name alone."""
        return display_name(self.username, self.full_name)

    def has_role(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def is_active(self) -> bool:  # Flask-Login: disabled users cannot sign in
        return bool(self.active)

    def get_id(self) -> str:
        # The session names the password too, so changing it ends every other session.
        return f"{self.id}.{self.password_hash[-16:]}"


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[str] = mapped_column(String(16), primary_key=True)
    user: Mapped[User] = relationship(back_populates="role_rows")


class ApiToken(Base):
    """A bearer token; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    user: Mapped[User] = relationship(lazy="joined")


class WebSession(Base):
    """A browser signed in to the pages. Its cookie carries a random id; only the id's SHA-256
    digest is kept here. The cookie is signed but lives on the client, so nothing in it can be
    taken back: signing out, an idle limit, a disabled account or a new password end this row,
    and a copy of the cookie made before then finds it ended."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Moved on at most once a minute (core.auth.sessions): the idle limit is measured from here,
    # so a copied cookie cannot keep itself alive by refreshing its own timestamp.
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # signed_out, idle, expired, disabled, password_changed, password_reset
    ended_reason: Mapped[str | None] = mapped_column(String(16))

    user: Mapped[User] = relationship(lazy="joined")
