"""The audit log of security-relevant actions (sign-ins, roles, tokens, billing, ...)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, utc_now


class AuditEvent(Base):
    """Org events carry org_id; account events (sign-in, reset) have none.

    No foreign keys: the trail outlives deleted users and organisations.
    """

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_org_id_at", "org_id", "at"),)

    #: Made by the portal, so inserting needs no RETURNING (which RLS would filter).
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=lambda: uuid.uuid4().hex)
    org_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    action: Mapped[str] = mapped_column(String(64))
    actor_user_id: Mapped[str | None] = mapped_column(String(32), index=True)
    actor_email: Mapped[str | None] = mapped_column(String(320))
    target: Mapped[str | None] = mapped_column(String(200))
    outcome: Mapped[str] = mapped_column(String(16), default="success")
    client_ip: Mapped[str | None] = mapped_column(String(64))
    request_id: Mapped[str | None] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
