"""Factories for tiny silver and gold frames (instead of hand-built rows in each test)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from pyspark.sql import DataFrame, SparkSession

from hub.lakehouse.tables import FEATURES_1M, SILVER_READINGS
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState
from tests.support.factories import BASE_VALUES

START = datetime(2026, 7, 6, tzinfo=UTC)
RECEIVED = START + timedelta(days=2)


def naive(moment: datetime) -> datetime:
    """PySpark takes naive datetimes as local time; the tests run on UTC."""
    return moment.astimezone(UTC).replace(tzinfo=None)


def silver_rows(
    n: int,
    *,
    compressor: str = "C01",
    station: str = "STATION-1",
    org: str = "org-a",
    start: datetime = START,
    interval_s: float = 1.0,
    first_seq: int = 1,
    received_at: datetime = RECEIVED,
    **columns: list[Any],
) -> list[dict[str, Any]]:
    """`n` silver rows of one compressor, `interval_s` apart; `columns` override per row."""
    rows = []
    for i in range(n):
        row: dict[str, Any] = {
            "org_id": org,
            "station_id": station,
            "compressor_id": compressor,
            "timestamp": naive(start + timedelta(seconds=i * interval_s)),
            "seq": first_seq + i,
            "operating_state": OperatingState.RUNNING,
            **{s: BASE_VALUES[s] + (i % 5) * 0.1 for s in SENSOR_FIELDS},
            **{q: 0 for q in QUALITY_FIELDS},
            "reading_flags": 0,
            **{f"{s}_flags": 0 for s in SENSOR_FIELDS},
            "rule_flags": 0,
            "dt_s": None,
            "batch_id": f"{station}.b",
            "received_at": naive(received_at),
            "reading_date": (start + timedelta(seconds=i * interval_s)).date(),
        }
        for name, values in columns.items():
            row[name] = values[i]
        rows.append(row)
    return rows


def silver_frame(spark: SparkSession, *row_lists: list[dict[str, Any]]) -> DataFrame:
    rows = [row for rows in row_lists for row in rows]
    return spark.createDataFrame(rows, SILVER_READINGS.schema)


def minute_rows(
    n: int,
    *,
    compressor: str = "C01",
    start: datetime = START,
    readings_per_minute: int = 1,
    **columns: list[Any],
) -> list[dict[str, Any]]:
    """features_1m base rows: one running minute each with the base values, unless overridden."""
    rows = []
    for i in range(n):
        row: dict[str, Any] = {f.name: None for f in FEATURES_1M.schema.fields}
        row.update(
            org_id="org-a",
            station_id="STATION-1",
            compressor_id=compressor,
            minute_start=naive(start + timedelta(minutes=i)),
            feature_date=(start + timedelta(minutes=i)).date(),
            n_readings=readings_per_minute,
            n_running=readings_per_minute,
            n_comm_loss=0,
            n_clock_skew=0,
        )
        for sensor in SENSOR_FIELDS:
            value = columns.get(sensor, [BASE_VALUES[sensor]] * n)[i]
            row.update(
                {
                    f"{sensor}_n": readings_per_minute,
                    f"{sensor}_sum_milli": round(value * 1000) * readings_per_minute,
                    f"{sensor}_mean": float(round(value * 1000)) / 1000,
                    f"{sensor}_min": value,
                    f"{sensor}_max": value,
                    f"{sensor}_n_fault": 0,
                }
            )
        for name, values in columns.items():
            if name not in SENSOR_FIELDS:
                row[name] = values[i]
        rows.append(row)
    return rows


def minutes_frame(spark: SparkSession, *row_lists: list[dict[str, Any]]) -> DataFrame:
    rows = [row for rows in row_lists for row in rows]
    return spark.createDataFrame(rows, FEATURES_1M.schema)


def by_key(frame: DataFrame, *keys: str) -> dict[tuple[Any, ...], Any]:
    return {tuple(row[k] for k in keys): row for row in frame.collect()}
