"""Memberships tie global users to organisations with one role; invitations offer one."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, UtcDateTime, utc_now

HASH_LENGTH = 64


class Membership(OrgScoped, Base):
    __tablename__ = "memberships"

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    #: owner | admin | operator | viewer (hub.portal.tenancy.Role)
    role: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)


class Invitation(OrgScoped, Base):
    """Accepting adds a membership; it never changes the user's other memberships."""

    __tablename__ = "invitations"

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    email: Mapped[str] = mapped_column(String(320))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(HASH_LENGTH), unique=True)
    invited_by: Mapped[str | None] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime)


class OrgSso(OrgScoped, Base):
    """An org's directory (Entra tenant or Google Workspace domain) for sign-in."""

    __tablename__ = "org_sso"
    __table_args__ = (Index("ix_org_sso_directory", "provider", "directory"),)

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    #: The sign-in provider's name in settings (portal.oidc), e.g. "microsoft", "google".
    provider: Mapped[str] = mapped_column(String(40))
    #: Entra tenant id (tid) or Google Workspace domain (hd).
    directory: Mapped[str] = mapped_column(String(200))
    #: Members must sign in through this directory to work in the org.
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Directory users who sign in join with this role (None: invitations only).
    jit_role: Mapped[str | None] = mapped_column(String(16))
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)
