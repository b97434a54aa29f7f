"""Core tenancy tables: organisations own stations, stations hold compressors.

Telemetry-derived tables (latest status, aggregates, alerts, predictions, ...) and
portal tables (users, memberships, tokens, audit log) live beside their code and
share this Base, so one Alembic history covers the whole serving database.
"""

from __future__ import annotations

from sqlalchemy import Float, ForeignKey, ForeignKeyConstraint, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, Timestamps, org_id_column


class Organization(Timestamps, Base):
    __tablename__ = "organizations"
    __tenant_column__ = "id"

    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    #: pilot | operations | enterprise (hub.portal.billing.plans).
    plan: Mapped[str] = mapped_column(String(32), default="pilot")


class Station(OrgScoped, Timestamps, Base):
    __tablename__ = "stations"

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    basin: Mapped[str | None] = mapped_column(String(100))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)


class Compressor(OrgScoped, Timestamps, Base):
    __tablename__ = "compressors"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
        ),
    )

    org_id: Mapped[str] = org_id_column()
    id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    model: Mapped[str | None] = mapped_column(String(100))
    driver: Mapped[str | None] = mapped_column(String(100))
    rated_hp: Mapped[float | None] = mapped_column(Float)
    stages: Mapped[int | None] = mapped_column(Integer)
