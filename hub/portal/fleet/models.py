"""Per-station MQTT credentials (stations themselves are core tables in hub.db.models)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, ForeignKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, utc_now


class StationCredential(OrgScoped, Base):
    """The username/password one station's gateway uses at the broker.

    The password is stored as a mosquitto PBKDF2-SHA512 hash (`$7$`), so a broker
    password file can be generated from this table; the plain value is shown once.
    """

    __tablename__ = "station_credentials"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
        ),
    )

    org_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    username: Mapped[str] = mapped_column(String(140), unique=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
    rotated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utc_now)
