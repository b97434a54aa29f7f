from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class StationQualityRead(BaseModel):
    station_id: str
    station_name: str
    last_reading_at: datetime | None
    last_received_at: datetime | None
    compressors: int
    compressors_reporting: int | None
    readings_last_hour: int | None
    expected_readings_last_hour: float | None
    lag_p50_s: float | None
    lag_p95_s: float | None
    #: Share of readings in the last 24 h with a quality flag (gaps, stuck, out of range, ...).
    flagged_fraction_24h: float | None
    gap_seconds_24h: float | None
    #: Flagged readings per rule over the last 24 h.
    flags_24h: dict[str, int]
