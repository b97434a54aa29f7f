"""What each dataset exports: its serving table (or the lake's silver readings), its columns
and their Arrow types, and the column the time range applies to."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import JSON, BigInteger, Boolean, Date, DateTime, Float, Integer
from sqlalchemy.types import TypeDecorator

from hub.serving.models import AlertEpisode, DailyAggregate, HourlyAggregate, MaintenanceEvent
from shared.schema import SENSOR_FIELDS

DATASETS = ("readings", "hourly", "daily", "episodes", "work_orders")
FORMATS = ("csv", "parquet")

#: Silver columns a readings export carries (the quality flags stay in the lake).
READING_COLUMNS: tuple[tuple[str, pa.DataType], ...] = (
    ("station_id", pa.string()),
    ("compressor_id", pa.string()),
    ("timestamp", pa.timestamp("us", tz="UTC")),
    ("seq", pa.int64()),
    ("operating_state", pa.string()),
    *((sensor, pa.float64()) for sensor in SENSOR_FIELDS),
)


@dataclass(frozen=True)
class TableDataset:
    """A dataset read from one serving table."""

    name: str
    model: Any
    time_column: str

    @property
    def columns(self) -> list[Any]:
        return [c for c in self.model.__table__.columns if c.name != "org_id"]

    @property
    def schema(self) -> pa.Schema:
        return pa.schema([(c.name, arrow_type(c.type)) for c in self.columns])


def arrow_type(sql_type: Any) -> pa.DataType:
    if isinstance(sql_type, TypeDecorator):  # e.g. a UTC-aware DateTime: its underlying type
        return arrow_type(sql_type.impl_instance)
    if isinstance(sql_type, DateTime):
        return pa.timestamp("us", tz="UTC")
    if isinstance(sql_type, Date):
        return pa.date32()
    if isinstance(sql_type, (Integer, BigInteger)) and not isinstance(sql_type, Boolean):
        return pa.int64()
    if isinstance(sql_type, Float):
        return pa.float64()
    if isinstance(sql_type, Boolean):
        return pa.bool_()
    if isinstance(sql_type, JSON):
        return pa.string()  # lists (work-order parts) are joined with ";"
    return pa.string()


TABLE_DATASETS = {
    "hourly": TableDataset("hourly", HourlyAggregate, "hour_start"),
    "daily": TableDataset("daily", DailyAggregate, "day"),
    "episodes": TableDataset("episodes", AlertEpisode, "opened_at"),
    "work_orders": TableDataset("work_orders", MaintenanceEvent, "started_at"),
}
