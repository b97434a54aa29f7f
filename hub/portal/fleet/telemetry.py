"""Reads of the telemetry serving tables (written by the lakehouse) for fleet pages.

Everything the fleet, station and compressor pages show about live state goes
through here, so the pages do not depend on the serving tables' layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

#: Time-series ranges the compressor page offers: name -> (span, bucket).
RANGES: dict[str, tuple[timedelta, str]] = {
    "1h": (timedelta(hours=1), "minute"),
    "24h": (timedelta(hours=24), "hour"),
    "7d": (timedelta(days=7), "hour"),
    "30d": (timedelta(days=30), "day"),
}

HEALTH_ORDER = ("critical", "warning", "stale", "healthy", "unknown")


@dataclass
class UnitStatus:
    compressor_id: str
    station_id: str
    health: str = "unknown"
    last_seen: datetime | None = None
    values: dict[str, float | None] = field(default_factory=dict)
    anomaly_score: float | None = None
    rul_hours: float | None = None
    open_alerts: int = 0


@dataclass
class Series:
    t: list[float] = field(default_factory=list)
    avg: dict[str, list[float | None]] = field(default_factory=dict)
    min: dict[str, list[float | None]] = field(default_factory=dict)
    max: dict[str, list[float | None]] = field(default_factory=dict)


@dataclass
class Predictions:
    anomaly_t: list[float] = field(default_factory=list)
    anomaly_score: list[float | None] = field(default_factory=list)
    anomaly_threshold: float | None = None
    drift_t: list[float] = field(default_factory=list)
    drift_forecast: list[float | None] = field(default_factory=list)
    drift_lower: list[float | None] = field(default_factory=list)
    drift_upper: list[float | None] = field(default_factory=list)
    rul_hours: float | None = None
    rul_lower_hours: float | None = None
    rul_upper_hours: float | None = None
    rul_at: datetime | None = None
    model_version: str | None = None


def unit_statuses(
    *, session: Session, org_id: str, station_id: str | None = None
) -> dict[str, UnitStatus]:
    """Latest state per compressor (empty until the serving tables are there)."""
    return {}


def health_counts(*, session: Session, org_id: str) -> dict[str, dict[str, int]]:
    """station id -> {health: number of compressors} (units without a status are omitted)."""
    return {}


def attention(*, session: Session, org_id: str, limit: int = 25) -> list[UnitStatus]:
    """The worst units first (critical, warning, stale), at most `limit`."""
    return []


def series(*, session: Session, org_id: str, compressor_id: str, range_name: str) -> Series:
    return Series()


def predictions(*, session: Session, org_id: str, compressor_id: str) -> Predictions:
    return Predictions()


def worst(healths: list[str]) -> str:
    for health in HEALTH_ORDER:
        if health in healths:
            return health
    return "unknown"
