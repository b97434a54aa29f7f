"""Data quality per station: freshness, completeness, lag and quality flags (serving tables)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.portal.fleet import service as fleet
from hub.portal.quality.schemas import StationQualityRead


def station_quality(*, session: Session, org_id: str) -> list[StationQualityRead]:
    stations = fleet.list_stations(session=session, org_id=org_id)
    units = fleet.compressor_counts(session=session, org_id=org_id)
    return [
        StationQualityRead(
            station_id=s.id, station_name=s.name, last_reading_at=None, last_received_at=None,
            compressors=units.get(s.id, 0), compressors_reporting=None, readings_last_hour=None,
            expected_readings_last_hour=None, lag_p50_s=None, lag_p95_s=None,
            flagged_fraction_24h=None, gap_seconds_24h=None, flags_24h={},
        )
        for s in stations
    ]  # fmt: skip
