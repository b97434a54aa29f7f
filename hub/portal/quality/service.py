"""Data quality per station: freshness, completeness, lag and quality flags (hub.serving)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.portal.fleet import service as fleet
from hub.portal.quality.schemas import StationQualityRead
from hub.serving.models import DataQualityHour, StationFreshness

RULES = (
    "gap",
    "clock_skew",
    "late",
    "comm_loss",
    "quality",
    "instrument",
    "range",
    "rate",
    "stuck",
)


def _last_24h(session: Session, org_id: str) -> dict[str, dict[str, float]]:
    """Per station, sums over the 24 hours before its latest hour of data."""
    latest = (
        select(DataQualityHour.station_id, func.max(DataQualityHour.hour_start).label("end"))
        .where(DataQualityHour.org_id == org_id)
        .group_by(DataQualityHour.station_id)
        .subquery()
    )
    sums = [func.sum(getattr(DataQualityHour, f"n_{rule}")) for rule in RULES]
    rows = session.execute(
        select(
            DataQualityHour.station_id,
            func.sum(DataQualityHour.n_readings),
            func.sum(DataQualityHour.n_flagged),
            func.sum(DataQualityHour.gap_seconds),
            *sums,
        )
        .join(latest, latest.c.station_id == DataQualityHour.station_id)
        .where(
            DataQualityHour.org_id == org_id,
            DataQualityHour.hour_start > latest.c.end - timedelta(hours=24),
        )
        .group_by(DataQualityHour.station_id)
    ).all()
    out: dict[str, dict[str, float]] = {}
    for station_id, readings, flagged, gap_seconds, *counts in rows:
        out[station_id] = {
            "readings": float(readings or 0), "flagged": float(flagged or 0),
            "gap_seconds": float(gap_seconds or 0),
            **{rule: float(n or 0) for rule, n in zip(RULES, counts, strict=True)},
        }  # fmt: skip
    return out


def station_quality(*, session: Session, org_id: str) -> list[StationQualityRead]:
    stations = fleet.list_stations(session=session, org_id=org_id)
    units = fleet.compressor_counts(session=session, org_id=org_id)
    freshness = {
        row.station_id: row
        for row in session.scalars(
            select(StationFreshness).where(StationFreshness.org_id == org_id)
        )
    }
    day = _last_24h(session, org_id)
    result = []
    for s in stations:
        f = freshness.get(s.id)
        q = day.get(s.id)
        result.append(
            StationQualityRead(
                station_id=s.id, station_name=s.name,
                last_reading_at=f.last_reading_at if f else None,
                last_received_at=f.last_received_at if f else None,
                compressors=units.get(s.id, 0),
                compressors_reporting=f.compressors_reporting if f else None,
                readings_last_hour=f.readings_last_hour if f else None,
                expected_readings_last_hour=None,
                lag_p50_s=f.lag_p50_s if f else None, lag_p95_s=f.lag_p95_s if f else None,
                flagged_fraction_24h=(q["flagged"] / q["readings"]) if q and q["readings"] else None,
                gap_seconds_24h=q["gap_seconds"] if q else None,
                flags_24h={rule: int(q[rule]) for rule in RULES if q and q[rule]},
            )
        )  # fmt: skip
    return result
