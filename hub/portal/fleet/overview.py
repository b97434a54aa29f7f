"""Fleet overview, station and compressor read models, composed from core and serving tables."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.portal.billing import gates
from hub.portal.fleet import service, telemetry
from hub.portal.fleet.schemas import (
    AnomalyRead,
    CompressorDetail,
    CompressorRead,
    DriftRead,
    FleetOverview,
    HealthCounts,
    ModelStateRead,
    PredictionsRead,
    RulRead,
    SensorSeries,
    SeriesRead,
    StationHealth,
    Threshold,
    UnitStatusRead,
)
from hub.portal.fleet.sensors import SENSORS
from hub.scoring import service as scoring

#: The models the hub scores with, as the pages name them.
MODEL_KINDS = {
    "anomaly": "anomaly detector",
    "rul": "RUL estimator",
    "temp_forecast": "drift forecaster",
}


def _status(compressor_id: str, station_id: str, statuses: dict) -> telemetry.UnitStatus:  # type: ignore[type-arg]
    return statuses.get(compressor_id) or telemetry.UnitStatus(compressor_id, station_id)


def fleet_overview(*, session: Session, org_id: str) -> FleetOverview:
    """Aggregated in SQL (GROUP BY station): cheap with a thousand compressors."""
    stations = service.list_stations(session=session, org_id=org_id)
    units = service.compressor_counts(session=session, org_id=org_id)
    by_health = telemetry.health_counts(session=session, org_id=org_id)
    data = telemetry.station_data(session=session, org_id=org_id)
    newest = telemetry.newest_data(session=session, org_id=org_id)
    counts = HealthCounts()
    rows = []
    for station in stations:
        total = units.get(station.id, 0)
        health = dict(by_health.get(station.id, {}))
        health["unknown"] = total - sum(n for h, n in health.items() if h != "unknown")
        for name, n in health.items():
            setattr(counts, name, getattr(counts, name) + n)
        counts.total += total
        present = [name for name, n in health.items() if n > 0]
        # model_construct: rows straight from the database need no second validation.
        rows.append(
            StationHealth.model_construct(
                id=station.id,
                name=station.name,
                basin=station.basin,
                latitude=station.latitude,
                longitude=station.longitude,
                health=telemetry.worst(present) if total else "unknown",
                compressors=total,
                critical=health.get("critical", 0),
                warning=health.get("warning", 0),
                stale=health.get("stale", 0),
                last_reading_at=data[station.id].last_reading_at if station.id in data else None,
                freshness=telemetry.describe_lag(
                    newest, data[station.id].last_reading_at if station.id in data else None
                ),
            )
        )
    hidden = gates.hidden_compressors(session=session, org_id=org_id)
    beyond = gates.compressors_beyond_limit(session=session, org_id=org_id)
    return FleetOverview(
        counts=counts, stations=rows, compressors_not_shown=len(hidden),
        compressors_shown_until=min(
            (until for unit, until in beyond.items() if unit not in hidden), default=None
        ),
    )  # fmt: skip


def station_units(*, session: Session, org_id: str, station_id: str) -> list[CompressorDetail]:
    service.get_station(session=session, org_id=org_id, station_id=station_id)
    compressors = service.list_compressors(session=session, org_id=org_id, station_id=station_id)
    statuses = telemetry.unit_statuses(session=session, org_id=org_id, station_id=station_id)
    return [_detail(c, statuses) for c in compressors]


def compressor_detail(*, session: Session, org_id: str, compressor_id: str) -> CompressorDetail:
    compressor = service.get_compressor(session=session, org_id=org_id, compressor_id=compressor_id)
    statuses = telemetry.unit_statuses(
        session=session, org_id=org_id, station_id=compressor.station_id
    )
    return _detail(compressor, statuses)


def _detail(compressor, statuses) -> CompressorDetail:  # type: ignore[no-untyped-def]
    status = _status(compressor.id, compressor.station_id, statuses)
    return CompressorDetail(
        **CompressorRead.model_validate(compressor).model_dump(),
        status=UnitStatusRead(**status.__dict__),
    )


def compressor_series(
    *, session: Session, org_id: str, compressor_id: str, range_name: str
) -> SeriesRead:
    service.get_compressor(session=session, org_id=org_id, compressor_id=compressor_id)
    data = telemetry.series(
        session=session, org_id=org_id, compressor_id=compressor_id, range_name=range_name
    )
    return SeriesRead.model_construct(
        range=range_name,
        t=data.t,
        history_from=data.history_from,
        sensors={
            name: SensorSeries.model_construct(
                label=sensor.label, unit=sensor.unit, avg=data.avg.get(name, []),
                min=data.min.get(name, []), max=data.max.get(name, []),
            )
            for name, sensor in SENSORS.items()
        },
        thresholds={
            name: Threshold(warning=s.warning, critical=s.critical, direction=s.direction)
            for name, s in SENSORS.items()
        },
    )  # fmt: skip


def compressor_predictions(*, session: Session, org_id: str, compressor_id: str) -> PredictionsRead:
    service.get_compressor(session=session, org_id=org_id, compressor_id=compressor_id)
    p = telemetry.predictions(session=session, org_id=org_id, compressor_id=compressor_id)
    return PredictionsRead(
        model_version=p.model_version,
        anomaly=AnomalyRead(t=p.anomaly_t, score=p.anomaly_score, threshold=p.anomaly_threshold),
        drift=DriftRead(
            t=p.drift_t, forecast=p.drift_forecast, lower=p.drift_lower, upper=p.drift_upper,
            threshold=SENSORS["discharge_temp_f"].critical,
        ),
        rul=RulRead(
            hours=p.rul_hours, lower_hours=p.rul_lower_hours, upper_hours=p.rul_upper_hours,
            at=p.rul_at, t=p.rul_t, series=p.rul_series, lower=p.rul_series_lower,
            upper=p.rul_series_upper,
        ),
        drifting=p.drifting, drift_rate_f_per_day=p.drift_rate_f_per_day, versions=p.versions,
        models=model_states(session=session, org_id=org_id), history_from=p.history_from,
    )  # fmt: skip


def model_states(*, session: Session, org_id: str) -> dict[str, ModelStateRead]:
    """Each model's state at the hub; a model never checked reads as not registered."""
    recorded = scoring.model_states(session=session, org_id=org_id)
    states = {}
    for kind in MODEL_KINDS:
        row = recorded.get(kind)
        states[kind] = (
            ModelStateRead(model_id=row.model_id, status=row.status,
                           model_version=row.model_version, message=row.message)
            if row is not None
            else ModelStateRead(model_id="", status="not_registered", model_version=None,
                                message="no model registered")
        )  # fmt: skip
    return states
