from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.portal.pagination import Page
from hub.portal.types import Label, Name
from shared.ids import ID_PATTERN

StationIdField = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=64)]
Text = Name


class StationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StationIdField
    name: Text
    basin: Label | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class StationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    basin: Label | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class StationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    basin: str | None
    latitude: float | None
    longitude: float | None


class CompressorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    station_id: str
    model: str | None
    driver: str | None
    rated_hp: float | None
    stages: int | None


class StationCredentialRead(BaseModel):
    username: str
    #: The station may publish and subscribe only under this prefix.
    topic_prefix: str
    rotated_at: datetime


class StationCredentialIssued(StationCredentialRead):
    #: Shown once; the portal keeps only a mosquitto PBKDF2 hash.
    password: str


StationPage = Page[StationRead]
CompressorPage = Page[CompressorRead]


class HealthCounts(BaseModel):
    critical: int = 0
    warning: int = 0
    stale: int = 0
    healthy: int = 0
    unknown: int = 0
    total: int = 0


class StationHealth(StationRead):
    health: str
    compressors: int
    critical: int
    warning: int
    stale: int
    #: Its newest landed reading (data time, the hot path) and how far that lags the org's newest.
    last_reading_at: datetime | None = None
    freshness: str | None = None


class FleetOverview(BaseModel):
    counts: HealthCounts
    stations: list[StationHealth]
    #: Compressors beyond the plan's limit, past their grace: not shown (nor counted above),
    #: their data kept.
    compressors_not_shown: int = 0
    #: When the first compressor beyond the limit that is still shown stops being shown.
    compressors_shown_until: datetime | None = None


class UnitStatusRead(BaseModel):
    compressor_id: str
    station_id: str
    health: str
    last_seen: datetime | None
    values: dict[str, float | None]
    anomaly_score: float | None
    rul_hours: float | None
    #: The RUL model judged the unit; `rul_hours` None then means "no degradation detected".
    rul_estimated: bool = False
    #: The drift forecaster's latest verdict (None: nothing said yet).
    drifting: bool | None = None
    open_alerts: int
    #: How far the newest reading lags the org's newest data (data clock; never negative).
    freshness: str | None = None


class CompressorDetail(CompressorRead):
    status: UnitStatusRead


class SensorSeries(BaseModel):
    label: str
    unit: str
    avg: list[float | None]
    min: list[float | None]
    max: list[float | None]


class Threshold(BaseModel):
    warning: float | None
    critical: float | None
    direction: str


class SeriesRead(BaseModel):
    range: str
    #: Bucket start times, seconds since the epoch (UTC).
    t: list[float]
    sensors: dict[str, SensorSeries]
    thresholds: dict[str, Threshold]
    #: The oldest moment the plan shows (None: all history); older buckets are left out.
    history_from: datetime | None = None


class AnomalyRead(BaseModel):
    t: list[float]
    score: list[float | None]
    threshold: float | None


class DriftRead(BaseModel):
    t: list[float]
    forecast: list[float | None]
    lower: list[float | None]
    upper: list[float | None]
    threshold: float | None


class RulRead(BaseModel):
    hours: float | None
    lower_hours: float | None
    upper_hours: float | None
    at: datetime | None
    #: The hourly estimates (seconds since the epoch; None: no degradation detected that hour).
    t: list[float] = []
    series: list[float | None] = []
    lower: list[float | None] = []
    upper: list[float | None] = []


class ModelStateRead(BaseModel):
    """Whether the hub scores with a model: active, not_registered or refused (with why)."""

    model_id: str
    status: str
    model_version: str | None
    message: str


class PredictionsRead(BaseModel):
    model_version: str | None
    anomaly: AnomalyRead
    drift: DriftRead
    rul: RulRead
    drifting: bool | None = None
    drift_rate_f_per_day: float | None = None
    #: score kind -> "model_id@version" of the latest row of that kind
    versions: dict[str, str] = {}
    #: anomaly | rul | temp_forecast -> the model's state at the hub (absent: never checked)
    models: dict[str, ModelStateRead] = {}
    #: The oldest moment the plan shows (None: all history); older scores are left out.
    history_from: datetime | None = None
