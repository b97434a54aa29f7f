"""Users are global (one person, many orgs); sessions, identities and attempts belong to users."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, Timestamps, UtcDateTime, utc_now

HASH_LENGTH = 64  # sha256 hex


class User(Timestamps, Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: Stored lower-cased; unique across the whole service.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    #: argon2id; None for users who only sign in through a provider.
    password_hash: Mapped[str | None] = mapped_column(String(200))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    last_login_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OAuthIdentity(Base):
    """A provider account linked to a user: (provider, subject) is the stable key."""

    __tablename__ = "oauth_identities"
    __table_args__ = (UniqueConstraint("subject_key", name="uq_oauth_identities_subject_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    provider: Mapped[str] = mapped_column(String(40))
    #: "<provider>:<subject>", the value RLS compares with app.login_subject.
    subject_key: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class UserSession(Base):
    """A server-side session: the cookie holds a random token, the table its sha256."""

    __tablename__ = "user_sessions"

    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    csrf_token: Mapped[str] = mapped_column(String(64))
    #: The organisation the user last worked in (pages default to it).
    org_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    #: "<provider>:<tenant or domain>" when opened through an org directory (org SSO).
    sso_directory: Mapped[str | None] = mapped_column(String(200))


class LoginAttempt(Base):
    """Every password sign-in attempt: rate limit per address, lockout per account."""

    __tablename__ = "login_attempts"
    __table_args__ = (
        Index("ix_login_attempts_email_at", "email", "at"),
        Index("ix_login_attempts_client_ip_at", "client_ip", "at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    email: Mapped[str] = mapped_column(String(320))
    client_ip: Mapped[str] = mapped_column(String(64))
    succeeded: Mapped[bool] = mapped_column(Boolean)
    #: What was attempted: login | reset | signup | link (each has its own limits).
    kind: Mapped[str] = mapped_column(String(16), default="login", server_default="login")
    at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class PasswordResetToken(Base):
    __tablename__ = "password_reset_tokens"

    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), primary_key=True)
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
