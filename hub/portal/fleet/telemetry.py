"""Reads of the telemetry serving tables (hub.serving, written by the pipeline) for fleet pages.

Everything the fleet, station and compressor pages show about live state goes
through here, so the pages do not depend on the serving tables' layout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, func, literal, select
from sqlalchemy.orm import Session

from hub.ingest.models import CompressorLatest, StationLatest
from hub.portal.billing import gates
from hub.serving.models import (
    AlertEpisode,
    CompressorStatus,
    HourlyAggregate,
    Prediction,
    RecentMinute,
    StationFreshness,
)
from shared.schema import SENSOR_FIELDS

#: Time-series ranges the compressor page offers: name -> (span, bucket).
RANGES: dict[str, tuple[timedelta, str]] = {
    "1h": (timedelta(hours=1), "minute"),
    "24h": (timedelta(hours=24), "hour"),
    "7d": (timedelta(days=7), "hour"),
    "30d": (timedelta(days=30), "day"),
}

#: Gold's performance figures of a compressor-hour, as serving's hourly rows carry them
#: (hub/lakehouse/performance.py; null where the unit ran under 50 minutes of the hour).
PERFORMANCE_FIGURES = (
    "stage_compression_ratio",
    "ideal_discharge_temp_f",
    "discharge_temp_excess_f",
    "isentropic_gas_hp",
    "adiabatic_efficiency",
)

#: Score kinds shown per unit on the fleet and station pages.
UNIT_KINDS = ("anomaly", "rul_hours", "drift_status")

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
    #: The RUL model has judged the unit (a None `rul_hours` then means no degradation seen).
    rul_estimated: bool = False
    #: The drift forecaster's latest verdict (None: nothing said yet).
    drifting: bool | None = None
    open_alerts: int = 0
    #: Equipment alerts not resolved by anyone yet (open or acknowledged, any condition).
    unresolved_alerts: int = 0
    #: How far its newest reading lags the org's newest data, on the data's own clock.
    freshness: str | None = None


@dataclass
class Series:
    t: list[float] = field(default_factory=list)
    #: The oldest moment the plan shows (None: all history); older buckets are left out.
    history_from: datetime | None = None
    avg: dict[str, list[float | None]] = field(default_factory=dict)
    min: dict[str, list[float | None]] = field(default_factory=dict)
    max: dict[str, list[float | None]] = field(default_factory=dict)
    #: Gold's performance figures per bucket; empty for minute buckets (none are stored).
    figures: dict[str, list[float | None]] = field(default_factory=dict)


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
    rul_t: list[float] = field(default_factory=list)
    rul_series: list[float | None] = field(default_factory=list)
    rul_series_lower: list[float | None] = field(default_factory=list)
    rul_series_upper: list[float | None] = field(default_factory=list)
    #: The oldest moment the plan shows (None: all history); older scores are left out.
    history_from: datetime | None = None
    drifting: bool | None = None
    drift_rate_f_per_day: float | None = None
    model_version: str | None = None
    #: score kind -> "model_id@version" of the latest row
    versions: dict[str, str] = field(default_factory=dict)


def data_now(*, session: Session, org_id: str) -> datetime:
    """What ages of data are measured against: the wall clock, or (portal clock `data`) the
    newest reading the org's stations delivered, so simulated or replayed time reads right."""
    now = datetime.now(UTC)
    if session.info.get("clock") != "data":
        return now
    cached: datetime | None = session.info.get(("data_now", org_id))
    if cached is not None:
        return cached
    newest = session.scalar(
        select(func.max(StationFreshness.last_reading_at)).where(StationFreshness.org_id == org_id)
    )
    if newest is not None:
        now = newest if newest.tzinfo else newest.replace(tzinfo=UTC)
    session.info[("data_now", org_id)] = now
    return now


def _shown(session: Session, org_id: str, column: Any) -> tuple[Any, ...]:
    """Rows of compressors the plan shows (those beyond its limit past their grace are not)."""
    hidden = gates.hidden_compressors(session=session, org_id=org_id)
    return (column.not_in(hidden),) if hidden else ()


def _since(session: Session, org_id: str, column: Any) -> tuple[tuple[Any, ...], datetime | None]:
    """Rows inside the history the plan shows, and where that history starts."""
    start = gates.history_start(session=session, org_id=org_id)
    return ((column >= start,) if start is not None else ()), start


def _stale_cut(session: Session, org_id: str) -> datetime:
    minutes = float(session.info.get("stale_after_minutes", 15.0))
    return data_now(session=session, org_id=org_id) - timedelta(minutes=minutes)


def _health(status: str, as_of: datetime | None, cut: datetime) -> str:
    if as_of is None:
        return "unknown"
    if as_of.tzinfo is None:
        as_of = as_of.replace(tzinfo=UTC)
    return "stale" if as_of < cut else status


def _unit(row: CompressorStatus, cut: datetime) -> UnitStatus:
    return UnitStatus(
        compressor_id=row.compressor_id,
        station_id=row.station_id,
        health=_health(row.status, row.as_of, cut),
        last_seen=row.as_of,
        values={name: getattr(row, f"{name}_mean") for name in SENSOR_FIELDS},
        open_alerts=(row.open_warning or 0) + (row.open_critical or 0),
    )


def unit_statuses(
    *, session: Session, org_id: str, station_id: str | None = None
) -> dict[str, UnitStatus]:
    """Latest state per compressor, with the latest anomaly score and RUL."""
    query = select(CompressorStatus).where(CompressorStatus.org_id == org_id)
    if station_id is not None:
        query = query.where(CompressorStatus.station_id == station_id)
    cut = _stale_cut(session, org_id)
    units = {row.compressor_id: _unit(row, cut) for row in session.scalars(query)}
    _overlay_hot(session, org_id, station_id, units)
    if units:
        for compressor_id, kind, score in _latest_scores(session, org_id, station_id):
            unit = units.get(compressor_id)
            if unit is not None and kind == "anomaly":
                unit.anomaly_score = score
            elif unit is not None and kind == "rul_hours":
                unit.rul_hours = score
                unit.rul_estimated = True
            elif unit is not None and kind == "drift_status" and score is not None:
                unit.drifting = score >= 0.5
    return units


def describe_lag(newest: datetime | None, moment: datetime | None) -> str | None:
    """'newest data' or how far `moment` lags `newest` (both data times; never negative)."""
    if newest is None or moment is None:
        return None
    seconds = max(0.0, (_aware(newest) - _aware(moment)).total_seconds())
    if seconds < 60:
        return "newest data"
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds / size:.0f} {unit} behind the newest data"
    return None


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def newest_data(*, session: Session, org_id: str) -> datetime | None:
    """The org's newest reading time as the hot path saw it (the data's clock)."""
    return session.scalar(
        select(func.max(StationLatest.last_reading_at)).where(StationLatest.org_id == org_id)
    )


def station_data(*, session: Session, org_id: str) -> dict[str, StationLatest]:
    """station id -> its newest landed data (the hot path)."""
    rows = session.scalars(select(StationLatest).where(StationLatest.org_id == org_id))
    return {row.station_id: row for row in rows}


def _overlay_hot(
    session: Session, org_id: str, station_id: str | None, units: dict[str, UnitStatus]
) -> None:
    """Newest values from the hot path where they are newer than gold's (or gold has none)."""
    query = select(CompressorLatest).where(CompressorLatest.org_id == org_id)
    if station_id is not None:
        query = query.where(CompressorLatest.station_id == station_id)
    for row in session.scalars(query):
        unit = units.get(row.compressor_id)
        if unit is None:
            unit = units[row.compressor_id] = UnitStatus(row.compressor_id, row.station_id)
        if unit.last_seen is None or _aware(row.reading_at) >= _aware(unit.last_seen):
            unit.last_seen = row.reading_at
            unit.values = {name: getattr(row, name) for name in SENSOR_FIELDS}
    newest = newest_data(session=session, org_id=org_id)
    for unit in units.values():
        unit.freshness = describe_lag(newest, unit.last_seen)


def _latest_scores(
    session: Session, org_id: str, station_id: str | None
) -> list[tuple[str, str, float | None]]:
    latest = (
        select(
            Prediction.compressor_id,
            Prediction.score_kind,
            func.max(Prediction.scored_at).label("scored_at"),
        )
        .where(Prediction.org_id == org_id, Prediction.score_kind.in_(UNIT_KINDS))
        .group_by(Prediction.compressor_id, Prediction.score_kind)
    )
    if station_id is not None:
        latest = latest.where(Prediction.station_id == station_id)
    sub = latest.subquery()
    rows = session.execute(
        select(Prediction.compressor_id, Prediction.score_kind, Prediction.score)
        .join(
            sub,
            (Prediction.compressor_id == sub.c.compressor_id)
            & (Prediction.score_kind == sub.c.score_kind)
            & (Prediction.scored_at == sub.c.scored_at),
        )
        .where(Prediction.org_id == org_id)
    ).all()
    return [(c, k, s) for c, k, s in rows]


def model_watch(*, session: Session, org_id: str, limit: int = 10) -> list[UnitStatus]:
    """Units whose latest RUL estimate is a number (shortest first), then drifting ones."""
    units: dict[str, UnitStatus] = {}
    hidden = gates.hidden_compressors(session=session, org_id=org_id)
    for compressor_id, kind, score in _latest_scores(session, org_id, None):
        if compressor_id in hidden:
            continue
        unit = units.setdefault(compressor_id, UnitStatus(compressor_id, ""))
        if kind == "rul_hours" and score is not None:
            unit.rul_hours = score
        elif kind == "drift_status" and score is not None:
            unit.drifting = score >= 0.5
    watched = [u for u in units.values() if u.rul_hours is not None or u.drifting]
    if watched:
        stations = dict(
            session.execute(
                select(CompressorStatus.compressor_id, CompressorStatus.station_id).where(
                    CompressorStatus.org_id == org_id
                )
            ).all()
        )
        for unit in watched:
            unit.station_id = stations.get(unit.compressor_id, "")
    watched.sort(key=lambda u: (u.rul_hours is None, u.rul_hours or 0.0, u.compressor_id))
    return watched[:limit]


def health_counts(*, session: Session, org_id: str) -> dict[str, dict[str, int]]:
    """station id -> {health: number of compressors} (units without a status are omitted)."""
    health = case(
        (CompressorStatus.as_of < _stale_cut(session, org_id), literal("stale")),
        else_=CompressorStatus.status,
    )
    rows = session.execute(
        select(CompressorStatus.station_id, health, func.count())
        .where(
            CompressorStatus.org_id == org_id,
            *_shown(session, org_id, CompressorStatus.compressor_id),
        )
        .group_by(CompressorStatus.station_id, health)
    ).all()
    counts: dict[str, dict[str, int]] = {}
    for station_id, name, n in rows:
        counts.setdefault(station_id, {})[name] = int(n)
    return counts


def attention(*, session: Session, org_id: str, limit: int = 25) -> list[UnitStatus]:
    """The worst units first (critical, warning, stale), then units whose equipment alerts
    nobody has resolved yet (their condition may have cleared), at most `limit`."""
    cut = _stale_cut(session, org_id)
    unresolved = (
        select(AlertEpisode.compressor_id, func.count().label("n"))
        .where(
            AlertEpisode.org_id == org_id,
            AlertEpisode.category == "equipment",
            AlertEpisode.resolved_at.is_(None),
            AlertEpisode.status != "superseded",
        )
        .group_by(AlertEpisode.compressor_id)
        .subquery()
    )
    rank = case(
        (CompressorStatus.as_of < cut, 3),
        (CompressorStatus.status == "critical", 1),
        (CompressorStatus.status == "warning", 2),
        (unresolved.c.n > 0, 4),
        else_=9,
    )
    rows = session.execute(
        select(CompressorStatus, unresolved.c.n)
        .outerjoin(unresolved, unresolved.c.compressor_id == CompressorStatus.compressor_id)
        .where(
            CompressorStatus.org_id == org_id,
            rank < 9,
            *_shown(session, org_id, CompressorStatus.compressor_id),
        )
        .order_by(rank, CompressorStatus.compressor_id)
        .limit(limit)
    ).all()
    units = []
    for row, n in rows:
        unit = _unit(row, cut)
        unit.unresolved_alerts = int(n or 0)
        units.append(unit)
    return units


def series(*, session: Session, org_id: str, compressor_id: str, range_name: str) -> Series:
    """Bucketed mean/min/max (and, for hourly buckets, gold's performance figures), ending at
    the compressor's latest bucket (the data's own clock, so accelerated or replayed time
    reads right)."""
    span, bucket = RANGES[range_name]
    table: Any = RecentMinute if bucket == "minute" else HourlyAggregate
    if bucket == "day":
        table = HourlyAggregate  # 30 days of hourly rows: 720 points, the recorded detail
    at = table.minute_start if table is RecentMinute else table.hour_start
    kept, start = _since(session, org_id, at)
    where = (table.org_id == org_id, table.compressor_id == compressor_id, *kept)
    end = session.scalar(select(func.max(at)).where(*where))
    result = Series(history_from=start)
    if end is None:
        return result
    columns = [at]
    for name in SENSOR_FIELDS:
        columns += [getattr(table, f"{name}_mean"), getattr(table, f"{name}_min"),
                    getattr(table, f"{name}_max")]  # fmt: skip
    figures = PERFORMANCE_FIGURES if table is HourlyAggregate else ()
    columns += [getattr(table, name) for name in figures]
    rows = session.execute(select(*columns).where(*where, at > end - span).order_by(at)).all()
    result.t = [_epoch(row[0]) for row in rows]
    for i, name in enumerate(SENSOR_FIELDS):
        result.avg[name] = [row[1 + 3 * i] for row in rows]
        result.min[name] = [row[2 + 3 * i] for row in rows]
        result.max[name] = [row[3 + 3 * i] for row in rows]
    first_figure = 1 + 3 * len(SENSOR_FIELDS)
    for i, name in enumerate(figures):
        result.figures[name] = [row[first_figure + i] for row in rows]
    return result


def predictions(*, session: Session, org_id: str, compressor_id: str) -> Predictions:
    kept, start = _since(session, org_id, Prediction.scored_at)
    where = (Prediction.org_id == org_id, Prediction.compressor_id == compressor_id, *kept)
    result = Predictions(history_from=start)
    anomaly = session.execute(
        select(
            Prediction.scored_at, Prediction.score, Prediction.model_version, Prediction.model_id
        )
        .where(*where, Prediction.score_kind == "anomaly")
        .order_by(Prediction.scored_at.desc())
        .limit(720)
    ).all()[::-1]
    result.anomaly_t = [_epoch(r[0]) for r in anomaly]
    result.anomaly_score = [r[1] for r in anomaly]
    if anomaly:
        result.model_version = anomaly[-1][2]
        result.versions["anomaly"] = f"{anomaly[-1][3]}@{anomaly[-1][2]}"
    forecast = session.execute(
        select(Prediction.scored_at, Prediction.horizon_s, Prediction.score, Prediction.lower,
               Prediction.upper)
        .where(*where, Prediction.score_kind == "temp_forecast_f")
        .order_by(Prediction.scored_at.desc())
        .limit(200)
    ).all()[::-1]  # fmt: skip
    result.drift_t = [_epoch(r[0]) + float(r[1] or 0) for r in forecast]
    result.drift_forecast = [r[2] for r in forecast]
    result.drift_lower = [r[3] for r in forecast]
    result.drift_upper = [r[4] for r in forecast]
    rul = session.execute(
        select(Prediction.scored_at, Prediction.score, Prediction.lower, Prediction.upper,
               Prediction.model_id, Prediction.model_version)
        .where(*where, Prediction.score_kind == "rul_hours")
        .order_by(Prediction.scored_at.desc())
        .limit(720)
    ).all()[::-1]  # fmt: skip
    if rul:
        result.rul_at, result.rul_hours, result.rul_lower_hours, result.rul_upper_hours = rul[-1][
            :4
        ]
        result.versions["rul_hours"] = f"{rul[-1][4]}@{rul[-1][5]}"
    result.rul_t = [_epoch(r[0]) for r in rul]
    result.rul_series = [r[1] for r in rul]
    result.rul_series_lower = [r[2] for r in rul]
    result.rul_series_upper = [r[3] for r in rul]
    _latest_drift(session, where, result)
    return result


def _latest_drift(session: Session, where: tuple[Any, ...], result: Predictions) -> None:
    for kind in ("drift_status", "drift_rate_f_per_day"):
        row = session.execute(
            select(Prediction.score, Prediction.model_id, Prediction.model_version)
            .where(*where, Prediction.score_kind == kind)
            .order_by(Prediction.scored_at.desc())
            .limit(1)
        ).first()
        if row is None or row[0] is None:
            continue
        result.versions[kind] = f"{row[1]}@{row[2]}"
        if kind == "drift_status":
            result.drifting = row[0] >= 0.5
        else:
            result.drift_rate_f_per_day = row[0]


def _epoch(moment: datetime) -> float:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def worst(healths: list[str]) -> str:
    for health in HEALTH_ORDER:
        if health in healths:
            return health
    return "unknown"
