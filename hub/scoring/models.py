"""Serving table of hub-side scoring: where each model stands for an org (migration 0004_hubml)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, utc_now


class ModelStatus(OrgScoped, Base):
    """Whether the hub scores with a model: active, not_registered or refused (with why)."""

    __tablename__ = "model_status"

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: anomaly | rul | temp_forecast
    kind: Mapped[str] = mapped_column(String(32))
    #: active | not_registered | refused
    status: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    checked_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
