"""Telemetry-derived serving tables: what the portal reads, upserted from gold by the pipeline.

Every table is tenant-scoped: `org_id` leads its primary key and PostgreSQL row-level
security (migration 0002_serving) limits every query to the transaction's org.
Columns mirror the gold tables of hub/lakehouse/tables.py under the same names.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, declared_attr, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, Timestamps, org_id_column, utc_now
from shared.schema import SENSOR_FIELDS

TS = DateTime(timezone=True)
EPISODE_ID_LENGTH = 32


def _id(primary_key: bool = False) -> Mapped[str]:
    return mapped_column(String(ID_LENGTH), primary_key=primary_key)


class _OfCompressor(OrgScoped):
    """A row about one compressor: (org_id, compressor_id) references compressors."""

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["org_id", "compressor_id"],
                ["compressors.org_id", "compressors.id"],
                ondelete="CASCADE",
            ),
        )


class _OfStation(OrgScoped):
    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            ForeignKeyConstraint(
                ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
            ),
        )


def _sensor_columns(namespace: dict[str, Any], stats: tuple[str, ...]) -> None:
    for sensor in SENSOR_FIELDS:
        for stat in stats:
            namespace[f"{sensor}_{stat}"] = mapped_column(Float, nullable=True)


class CompressorStatus(_OfCompressor, Base):
    """Latest state per compressor (gold compressor_health)."""

    __tablename__ = "compressor_status"

    org_id: Mapped[str] = org_id_column()
    compressor_id: Mapped[str] = _id(primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    as_of: Mapped[datetime] = mapped_column(TS)
    operating_state: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16))
    health_score: Mapped[int | None] = mapped_column(Integer)
    open_warning: Mapped[int] = mapped_column(Integer, default=0)
    open_critical: Mapped[int] = mapped_column(Integer, default=0)
    _sensor_columns(locals(), ("mean",))
    hp_efficiency: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utc_now, onupdate=utc_now)


class _Aggregate:
    n_readings: Mapped[int] = mapped_column(BigInteger)
    n_running_minutes: Mapped[int] = mapped_column(Integer)


class HourlyAggregate(_OfCompressor, _Aggregate, Base):
    __tablename__ = "hourly_aggregates"

    org_id: Mapped[str] = org_id_column()
    compressor_id: Mapped[str] = _id(primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(TS, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    _sensor_columns(locals(), ("mean", "min", "max", "std"))
    health_score_min: Mapped[int | None] = mapped_column(Integer)
    health_score_mean: Mapped[float | None] = mapped_column(Float)
    #: Gold's performance figures of the hour (hub/lakehouse/performance.py, docs/maintenance.md).
    stage_compression_ratio: Mapped[float | None] = mapped_column(Float)
    ideal_discharge_temp_f: Mapped[float | None] = mapped_column(Float)
    discharge_temp_excess_f: Mapped[float | None] = mapped_column(Float)
    isentropic_gas_hp: Mapped[float | None] = mapped_column(Float)
    adiabatic_efficiency: Mapped[float | None] = mapped_column(Float)


class DailyAggregate(_OfCompressor, _Aggregate, Base):
    __tablename__ = "daily_aggregates"

    org_id: Mapped[str] = org_id_column()
    compressor_id: Mapped[str] = _id(primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    _sensor_columns(locals(), ("mean", "min", "max", "std"))


class RecentMinute(_OfCompressor, Base):
    """The last `pipeline.serving_recent_window_min` minutes per compressor (the 1 h charts)."""

    __tablename__ = "recent_minutes"

    org_id: Mapped[str] = org_id_column()
    compressor_id: Mapped[str] = _id(primary_key=True)
    minute_start: Mapped[datetime] = mapped_column(TS, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    n_readings: Mapped[int] = mapped_column(Integer)
    n_running: Mapped[int] = mapped_column(Integer)
    _sensor_columns(locals(), ("mean", "min", "max"))


class AlertEpisode(_OfCompressor, Timestamps, Base):
    """One episode of a condition on a compressor. The pipeline owns the detection columns;
    the portal owns the operator workflow (acknowledged_*, resolved_*, resolution_note)."""

    __tablename__ = "alert_episodes"

    @declared_attr.directive
    def __table_args__(cls) -> tuple[Any, ...]:
        return (
            *_OfCompressor.__table_args__,
            Index("ix_alert_episodes_org_status", "org_id", "status"),
            Index("ix_alert_episodes_org_compressor", "org_id", "compressor_id"),
        )

    org_id: Mapped[str] = org_id_column()
    episode_id: Mapped[str] = mapped_column(String(EPISODE_ID_LENGTH), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    compressor_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    condition: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    signal: Mapped[str] = mapped_column(String(64))
    #: open | closed (pipeline); superseded = late data redrew it (kept for its workflow).
    status: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    first_seen_at: Mapped[datetime] = mapped_column(TS)
    opened_at: Mapped[datetime] = mapped_column(TS)
    last_seen_at: Mapped[datetime] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    escalated_at: Mapped[datetime | None] = mapped_column(TS)
    peak_value: Mapped[float] = mapped_column(Float)
    peak_at: Mapped[datetime] = mapped_column(TS)
    warning_threshold: Mapped[float] = mapped_column(Float)
    critical_threshold: Mapped[float | None] = mapped_column(Float)
    minutes_active: Mapped[int] = mapped_column(Integer)
    acknowledged_at: Mapped[datetime | None] = mapped_column(TS)
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None] = mapped_column(TS)
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    resolution_note: Mapped[str | None] = mapped_column(Text)


#: Columns of alert_episodes the pipeline writes; every other column belongs to the portal.
PIPELINE_EPISODE_COLUMNS = (
    "station_id", "compressor_id", "condition", "category", "signal", "status", "severity",
    "first_seen_at", "opened_at", "last_seen_at", "closed_at", "escalated_at", "peak_value",
    "peak_at", "warning_threshold", "critical_threshold", "minutes_active",
)  # fmt: skip


class AlertEvent(OrgScoped, Base):
    """An episode's life as the pipeline saw it: opened, escalated, closed, reopened, superseded."""

    __tablename__ = "alert_events"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "episode_id"],
            ["alert_episodes.org_id", "alert_episodes.episode_id"],
            ondelete="CASCADE",
        ),
    )

    org_id: Mapped[str] = org_id_column()
    episode_id: Mapped[str] = mapped_column(String(EPISODE_ID_LENGTH), primary_key=True)
    #: Unique per episode and kind: a replayed micro-batch cannot record an event twice.
    kind: Mapped[str] = mapped_column(String(16), primary_key=True)
    at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    severity: Mapped[str | None] = mapped_column(String(16))
    value: Mapped[float | None] = mapped_column(Float)
    recorded_at: Mapped[datetime] = mapped_column(TS, default=utc_now)


class Prediction(_OfCompressor, Base):
    """Model outputs per compressor (gold model_scores): anomaly score, forecasts, RUL."""

    __tablename__ = "predictions"

    org_id: Mapped[str] = org_id_column()
    compressor_id: Mapped[str] = _id(primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    score_kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    scored_at: Mapped[datetime] = mapped_column(TS, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    model_version: Mapped[str] = mapped_column(String(64))
    score: Mapped[float | None] = mapped_column(Float)
    horizon_s: Mapped[int | None] = mapped_column(BigInteger)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)


class StationFreshness(_OfStation, Base):
    __tablename__ = "station_freshness"

    org_id: Mapped[str] = org_id_column()
    station_id: Mapped[str] = _id(primary_key=True)
    last_reading_at: Mapped[datetime] = mapped_column(TS)
    last_received_at: Mapped[datetime] = mapped_column(TS)
    compressors_reporting: Mapped[int] = mapped_column(Integer)
    readings_last_hour: Mapped[int] = mapped_column(BigInteger)
    lag_p50_s: Mapped[float | None] = mapped_column(Float)
    lag_p95_s: Mapped[float | None] = mapped_column(Float)


DATA_QUALITY_COUNTS = (
    "n_received", "n_readings", "n_duplicates", "n_flagged", "n_gap", "n_clock_skew", "n_late",
    "n_comm_loss", "n_quality", "n_instrument", "n_range", "n_rate", "n_stuck",
)  # fmt: skip


class DataQualityHour(_OfCompressor, Base):
    __tablename__ = "data_quality_hourly"

    org_id: Mapped[str] = org_id_column()
    compressor_id: Mapped[str] = _id(primary_key=True)
    hour_start: Mapped[datetime] = mapped_column(TS, primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    for _name in DATA_QUALITY_COUNTS:
        locals()[_name] = mapped_column(BigInteger)
    del _name
    gap_seconds: Mapped[float] = mapped_column(Float)
    expected_readings: Mapped[float] = mapped_column(Float)


class ModelVersion(OrgScoped, Base):
    """The model registry: every trained version, its metrics and where it stands."""

    __tablename__ = "model_registry"

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    version: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: anomaly | temp_forecast | rul | emissions
    kind: Mapped[str] = mapped_column(String(32))
    #: candidate | champion | retired | rejected
    status: Mapped[str] = mapped_column(String(16))
    created_at: Mapped[datetime] = mapped_column(TS, default=utc_now)
    trained_from: Mapped[datetime | None] = mapped_column(TS)
    trained_to: Mapped[datetime | None] = mapped_column(TS)
    metrics: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    bundle_sha256: Mapped[str | None] = mapped_column(String(64))
    notes: Mapped[str | None] = mapped_column(Text)


class ModelDeployment(_OfStation, Base):
    """Which version of a model a station runs, and where its rollout stands."""

    __tablename__ = "model_deployments"

    org_id: Mapped[str] = org_id_column()
    station_id: Mapped[str] = _id(primary_key=True)
    model_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    offered_version: Mapped[str | None] = mapped_column(String(64))
    running_version: Mapped[str | None] = mapped_column(String(64))
    previous_version: Mapped[str | None] = mapped_column(String(64))
    #: pending | canary | shadow | promoted | rolled_back | failed
    rollout_state: Mapped[str] = mapped_column(String(16))
    reported_at: Mapped[datetime | None] = mapped_column(TS)
    message: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(TS, default=utc_now, onupdate=utc_now)


class MaintenanceEvent(_OfCompressor, Base):
    """Work on a compressor (a work order): inspections, repairs, replacements, failures,
    planned shutdowns; from operators (portal) or a CMMS import. Failures are the models'
    labels (hub/maintenance/labels.py)."""

    __tablename__ = "maintenance_events"

    org_id: Mapped[str] = org_id_column()
    event_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    compressor_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    #: inspection | repair | replacement | failure | planned_shutdown
    #: (rows from before work orders may also say part_replacement | trip | blowdown | other)
    kind: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(TS)
    ended_at: Mapped[datetime | None] = mapped_column(TS)
    description: Mapped[str | None] = mapped_column(Text)
    performed_by: Mapped[str | None] = mapped_column(String(320))
    #: operator | cmms | simulator
    source: Mapped[str] = mapped_column(String(16))
    episode_id: Mapped[str | None] = mapped_column(String(EPISODE_ID_LENGTH))
    created_at: Mapped[datetime] = mapped_column(TS, default=utc_now)
    # Work-order workflow (migration 0004_opscenter).
    title: Mapped[str] = mapped_column(String(200), default="", server_default="")
    #: valves | rod_packing | rings | bearings | ... (hub/maintenance/schemas.py COMPONENTS)
    component: Mapped[str | None] = mapped_column(String(32))
    #: open | assigned | closed
    status: Mapped[str] = mapped_column(String(16), default="closed", server_default="closed")
    assigned_to: Mapped[str | None] = mapped_column(String(320))
    parts: Mapped[list[str] | None] = mapped_column(JSON, default=list)
    downtime_hours: Mapped[float | None] = mapped_column(Float)
    created_by: Mapped[str | None] = mapped_column(String(320))
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    closed_by: Mapped[str | None] = mapped_column(String(320))
    #: The CMMS's own id of an imported record (a re-import skips what is already here).
    external_id: Mapped[str | None] = mapped_column(String(100))


class StationLink(_OfStation, Base):
    """A station's edge agent as it last reported itself (the retained status topic).

    Written by the hub's station-events worker; `online` turns false when the agent's
    last will arrives (the broker lost it) or it stopped cleanly.
    """

    __tablename__ = "station_links"

    org_id: Mapped[str] = org_id_column()
    station_id: Mapped[str] = _id(primary_key=True)
    online: Mapped[bool] = mapped_column(Boolean)
    agent_version: Mapped[str] = mapped_column(String(32), default="")
    model_id: Mapped[str | None] = mapped_column(String(64))
    model_version: Mapped[str | None] = mapped_column(String(64))
    last_model_update: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    backlog_readings: Mapped[int] = mapped_column(BigInteger, default=0)
    unacked_batches: Mapped[int] = mapped_column(Integer, default=0)
    last_seq: Mapped[int | None] = mapped_column(BigInteger)
    active_alarms: Mapped[int] = mapped_column(Integer, default=0)
    forced_out_readings: Mapped[int] = mapped_column(BigInteger, default=0)
    clock_jumps: Mapped[int] = mapped_column(Integer, default=0)
    buffer_bytes: Mapped[int | None] = mapped_column(BigInteger)
    panels: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The agent's own time of the report, and when the hub received it.
    reported_at: Mapped[datetime] = mapped_column(TS)
    received_at: Mapped[datetime] = mapped_column(TS)


class EdgeAlarm(_OfCompressor, Base):
    """An alarm episode the edge raised on site (the alarms topic), latest event wins."""

    __tablename__ = "edge_alarms"

    org_id: Mapped[str] = org_id_column()
    episode_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    compressor_id: Mapped[str] = mapped_column(String(ID_LENGTH), index=True)
    condition: Mapped[str] = mapped_column(String(64))
    severity: Mapped[str] = mapped_column(String(16))
    #: raised | cleared (the latest event received)
    event: Mapped[str] = mapped_column(String(16))
    raised_at: Mapped[datetime] = mapped_column(TS)
    cleared_at: Mapped[datetime | None] = mapped_column(TS)
    metric: Mapped[str | None] = mapped_column(String(64))
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    peak_value: Mapped[float | None] = mapped_column(Float)
    model_version: Mapped[str | None] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[datetime] = mapped_column(TS)
