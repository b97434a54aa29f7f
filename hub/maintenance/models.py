"""Tables of the maintenance package. The work orders themselves are `maintenance_events`
(hub/serving/models.py, which training has always read); attachments and episode reviews
live here. Every row carries its org, with row-level security (migration 0004_opscenter)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, DateTime, ForeignKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import Base, OrgScoped, org_id_column, utc_now
from hub.serving.models import EPISODE_ID_LENGTH

TS = DateTime(timezone=True)


class WorkOrderAttachment(OrgScoped, Base):
    """A file attached to a work order, stored under the org's directory in the hub data dir."""

    __tablename__ = "maintenance_attachments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["maintenance_events.org_id", "maintenance_events.event_id"],
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[str] = org_id_column()
    attachment_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    #: Relative to the hub data dir: orgs/<org>/maintenance/<event>/<attachment id>.
    stored_path: Mapped[str] = mapped_column(String(400))
    uploaded_by: Mapped[str | None] = mapped_column(String(320))
    uploaded_at: Mapped[datetime] = mapped_column(TS, default=utc_now)


class EpisodeReview(OrgScoped, Base):
    """A technician's verdict on an alert episode: the tuning report's ground truth."""

    __tablename__ = "episode_reviews"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "episode_id"],
            ["alert_episodes.org_id", "alert_episodes.episode_id"],
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[str] = org_id_column()
    episode_id: Mapped[str] = mapped_column(String(EPISODE_ID_LENGTH), primary_key=True)
    #: confirmed (a real problem) | dismissed (a false alarm)
    verdict: Mapped[str] = mapped_column(String(16))
    note: Mapped[str | None] = mapped_column(Text)
    reviewed_by: Mapped[str | None] = mapped_column(String(320))
    reviewed_at: Mapped[datetime] = mapped_column(TS, default=utc_now)
