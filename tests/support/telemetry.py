"""Telemetry-side test data in the serving tables: statuses, hourly aggregates, alerts."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine

from hub.db.base import utc_now
from hub.db.session import session_scope
from hub.serving.models import (
    AlertEpisode,
    CompressorStatus,
    HourlyAggregate,
    Prediction,
    RecentMinute,
)
from shared.schema import SENSOR_FIELDS

HEALTHY = {
    "vibration_mms": 3.1, "discharge_temp_f": 215.0, "suction_pressure_psi": 65.0,
    "discharge_pressure_psi": 1050.0, "horsepower_consumption": 1200.0, "gas_flow_mcf": 9000.0,
}  # fmt: skip
#: What gold stores for a HEALTHY hour of a 2-stage unit (hub/lakehouse/performance.py over
#: the running means, rounded); the portal only reads these.
HEALTHY_FIGURES: dict[str, float] = {
    "stage_compression_ratio": 3.655, "ideal_discharge_temp_f": 270.18,
    "discharge_temp_excess_f": -55.18, "isentropic_gas_hp": 1232.48,
    "adiabatic_efficiency": 1.0811,
}  # fmt: skip
#: An hour gold has no figures for (ran under 50 minutes, unknown stages, older rows).
NO_FIGURES: dict[str, None] = dict.fromkeys(HEALTHY_FIGURES)


@dataclass
class FailingUnit:
    compressor_id: str
    alert_id: str
    alert_title: str


def _status(org_id: str, station_id: str, compressor_id: str, status: str, **values: float) -> Any:
    sensors = {**HEALTHY, **values}
    return CompressorStatus(
        org_id=org_id, compressor_id=compressor_id, station_id=station_id, as_of=utc_now(),
        operating_state="running", status=status, health_score=30 if status != "healthy" else 95,
        open_warning=0, open_critical=1 if status == "critical" else 0,
        **{f"{name}_mean": value for name, value in sensors.items()},
    )  # fmt: skip


def hourly_row(
    org_id: str,
    station_id: str,
    compressor_id: str,
    hour_start: datetime,
    *,
    figures: Mapping[str, float | None] | None = None,
    n_running_minutes: int = 60,
    **values: float,
) -> HourlyAggregate:
    """One hour of a running unit (HEALTHY values and HEALTHY_FIGURES unless given)."""
    sensors = {**HEALTHY, **values}
    row: dict[str, Any] = {
        "org_id": org_id, "compressor_id": compressor_id, "station_id": station_id,
        "hour_start": hour_start, "n_readings": 3600, "n_running_minutes": n_running_minutes,
        **HEALTHY_FIGURES, **(figures or {}),
    }  # fmt: skip
    for name in SENSOR_FIELDS:
        row |= {f"{name}_mean": sensors[name], f"{name}_min": sensors[name] * 0.98,
                f"{name}_max": sensors[name] * 1.02, f"{name}_std": 0.5}  # fmt: skip
    return HourlyAggregate(**row)


def minute_row(
    org_id: str, station_id: str, compressor_id: str, minute_start: datetime, **values: float
) -> RecentMinute:
    """One minute of a running unit in recent_minutes (HEALTHY values unless given)."""
    sensors = {**HEALTHY, **values}
    row: dict[str, Any] = {
        "org_id": org_id, "compressor_id": compressor_id, "station_id": station_id,
        "minute_start": minute_start, "n_readings": 60, "n_running": 60,
    }  # fmt: skip
    for name in SENSOR_FIELDS:
        row |= {f"{name}_mean": sensors[name], f"{name}_min": sensors[name] * 0.98,
                f"{name}_max": sensors[name] * 1.02}  # fmt: skip
    return RecentMinute(**row)


def _hours(org_id: str, station_id: str, compressor_id: str, hours: int, hot: bool) -> list[Any]:
    """`hours` running hours to now; a hot unit's discharge temperature (and so gold's excess
    over the unchanged ideal) climbs 100 °F over them."""
    end = utc_now().replace(minute=0, second=0, microsecond=0)
    rows = []
    for h in range(hours):
        rise_f = 100.0 * h / hours if hot else 0.0
        excess_f = HEALTHY_FIGURES["discharge_temp_excess_f"] + rise_f
        rows.append(
            hourly_row(
                org_id, station_id, compressor_id, end - timedelta(hours=hours - 1 - h),
                discharge_temp_f=HEALTHY["discharge_temp_f"] + rise_f,
                figures={"discharge_temp_excess_f": excess_f},
            )
        )  # fmt: skip
    return rows


def _episode(org_id: str, station_id: str, compressor_id: str) -> AlertEpisode:
    opened = utc_now() - timedelta(hours=2)
    return AlertEpisode(
        org_id=org_id, episode_id=uuid.uuid4().hex, station_id=station_id,
        compressor_id=compressor_id, condition="high_discharge_temp", category="equipment",
        signal="discharge_temp_f", status="open", severity="critical", first_seen_at=opened,
        opened_at=opened, last_seen_at=utc_now(), peak_value=312.0, peak_at=utc_now(),
        warning_threshold=260.0, critical_threshold=300.0, minutes_active=120,
    )  # fmt: skip


def seed_failing_compressor(engine: Engine, org) -> FailingUnit:  # type: ignore[no-untyped-def]
    """Every unit reports; the org's third unit runs hot: critical, with an open alert."""
    failing = org.compressor_ids[2]
    with session_scope(engine, org_id=org.org_id) as session:
        for compressor_id in org.compressor_ids:
            station_id = compressor_id.rsplit("-C", 1)[0]
            hot = compressor_id == failing
            session.add(
                _status(org.org_id, station_id, compressor_id, "critical" if hot else "healthy",
                        **({"discharge_temp_f": 305.0} if hot else {}))
            )  # fmt: skip
            session.add_all(_hours(org.org_id, station_id, compressor_id, 48, hot))
        station_id = failing.rsplit("-C", 1)[0]
        episode = _episode(org.org_id, station_id, failing)
        session.add(episode)
        session.add(
            Prediction(org_id=org.org_id, compressor_id=failing, station_id=station_id,
                       model_id="rul", score_kind="rul_hours", scored_at=utc_now(),
                       model_version="1.0.0", score=36.0, lower=20.0, upper=50.0)
        )  # fmt: skip
        alert_id = episode.episode_id
    return FailingUnit(failing, alert_id, "High discharge temp")


def seed_alert(engine: Engine, org) -> str:  # type: ignore[no-untyped-def]
    """One open alert episode on the org's first compressor; its id."""
    compressor_id = org.compressor_ids[0]
    with session_scope(engine, org_id=org.org_id) as session:
        episode = _episode(org.org_id, compressor_id.rsplit("-C", 1)[0], compressor_id)
        session.add(episode)
        return episode.episode_id
