"""Tables: every configuration version pushed to a station, and its last report."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, DateTime, ForeignKeyConstraint, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, org_id_column, utc_now

_STATION_FK = ForeignKeyConstraint(
    ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
)


class StationConfigVersion(OrgScoped, Base):
    """A signed document as published (the desired configuration is the highest version)."""

    __tablename__ = "station_config_versions"
    __table_args__ = (_STATION_FK,)

    org_id: Mapped[str] = org_id_column()
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: {"document": {...}, "signature": "..."} exactly as published.
    signed: Mapped[dict[str, Any]] = mapped_column(JSON)
    issued_by: Mapped[str] = mapped_column(String(320), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)


class StationConfigReport(OrgScoped, Base):
    """What the station said about the last document it acted on (config_status)."""

    __tablename__ = "station_config_reports"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
        ),
    )

    org_id: Mapped[str] = org_id_column()
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    version: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(Text)
    running_version: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
