"""Compliance tables of the serving database: what the operator supplies per station
(segment, gas analysis, as-found measurements, devices), screened incidents and
integrity-management conditions. Tenant-scoped like every table (org_id, RLS)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, DateTime, Float, ForeignKeyConstraint, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, org_id_column, utc_now

TS = DateTime(timezone=True)


def _of_station() -> tuple[ForeignKeyConstraint]:
    return (
        ForeignKeyConstraint(
            ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
        ),
    )


class ComplianceProfile(OrgScoped, Base):
    """What the Subpart W calculation of a station needs beyond telemetry."""

    __tablename__ = "compliance_profiles"
    __table_args__ = _of_station()

    org_id: Mapped[str] = org_id_column()
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    #: transmission_compression | gathering_boosting
    segment: Mapped[str] = mapped_column(String(32))
    ch4_mole_fraction: Mapped[float] = mapped_column(Float)
    co2_mole_fraction: Mapped[float] = mapped_column(Float)
    gas_source: Mapped[str] = mapped_column(Text, default="")
    #: [{compressor_id, mode, rate, source, method, measured_on}] as-found (98.234)
    measurements: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: [{kind, count, hours}]
    pneumatic_devices: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)
    #: Typical gas temperature for blowdowns without one ("90 degF"), or null (missing).
    blowdown_temperature: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(TS, default=utc_now, onupdate=utc_now)
    updated_by: Mapped[str] = mapped_column(String(320), default="")


class ComplianceIncident(OrgScoped, Base):
    """An event screened against 49 CFR 191.3 (the event as given; the verdict at screening)."""

    __tablename__ = "compliance_incidents"
    __table_args__ = _of_station()

    org_id: Mapped[str] = org_id_column()
    incident_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    event: Mapped[dict[str, Any]] = mapped_column(JSON)
    #: yes | no | undetermined
    verdict: Mapped[str] = mapped_column(String(16))
    screened_at: Mapped[datetime] = mapped_column(TS, default=utc_now)
    screened_by: Mapped[str] = mapped_column(String(320), default="")


class ComplianceCondition(OrgScoped, Base):
    """A confirmed anomaly as a 49 CFR 192.933 condition; category null = not yet classified."""

    __tablename__ = "compliance_conditions"
    __table_args__ = _of_station()

    org_id: Mapped[str] = org_id_column()
    condition_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    description: Mapped[str] = mapped_column(Text, default="")
    discovered_on: Mapped[date] = mapped_column(Date)
    category: Mapped[str | None] = mapped_column(String(32))
    remediated_on: Mapped[date | None] = mapped_column(Date)
    #: The alert episode the condition came from, if any.
    episode_id: Mapped[str | None] = mapped_column(String(32))
    updated_at: Mapped[datetime] = mapped_column(TS, default=utc_now, onupdate=utc_now)
