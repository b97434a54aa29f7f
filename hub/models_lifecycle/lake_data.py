"""Training data from the lakehouse: silver readings (Spark), thinned, then pandas; failures from
the serving database's maintenance events.

Silver keeps every reading with the quality rules as flags; a value a rule calls a
sensor fault (`hub.lakehouse.flags.SENSOR_FAULT`) is treated as missing here, as the
features treat a value whose quality is not OK. Readings are thinned to one per
compressor per `sample_s` seconds in Spark before anything reaches pandas.
"""

from __future__ import annotations

from datetime import datetime

import pandas as pd
import pyarrow as pa
from sqlalchemy import Engine, select

from hub.db.session import session_scope
from hub.lakehouse.flags import SENSOR_FAULT
from hub.lakehouse.tables import SILVER_READINGS
from hub.serving.models import MaintenanceEvent
from models.fleet_runs import LabelledEvents
from shared.reading_table import READING_SCHEMA
from shared.schema import QUALITY_FIELDS, READING_COLUMNS, SENSOR_FIELDS, Quality


def thin_silver(frame, *, org_id: str, start: datetime, end: datetime, sample_s: int):  # type: ignore[no-untyped-def]
    """Silver rows of one org in [start, end), one per compressor per `sample_s` (pure transform)."""
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    rows = frame.filter(
        (F.col("org_id") == org_id)
        & (F.col("timestamp") >= F.lit(start))
        & (F.col("timestamp") < F.lit(end))
    )
    for sensor, quality in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True):
        flagged = (F.col(f"{sensor}_flags").bitwiseAND(int(SENSOR_FAULT)) != 0) & (
            F.col(quality) == 0
        )
        rows = rows.withColumn(
            quality, F.when(flagged, F.lit(int(Quality.OUT_OF_RANGE))).otherwise(F.col(quality))
        )
    slot = F.floor(F.unix_timestamp("timestamp") / sample_s)
    first = Window.partitionBy("compressor_id", slot.alias("slot")).orderBy("timestamp", "seq")
    return (
        rows.withColumn("_slot", slot)
        .withColumn("_n", F.row_number().over(first))
        .filter(F.col("_n") == 1)
        .select(*READING_COLUMNS)
    )


def silver_training_readings(
    spark, lake_root: str, *, org_id: str, start: datetime, end: datetime, sample_s: int = 60
) -> pa.Table:  # type: ignore[no-untyped-def]
    """Thinned silver readings as a pyarrow table in the shared reading schema."""
    from hub.lakehouse.io import Lake

    lake = Lake(spark, lake_root)
    frame = lake.read_dates(SILVER_READINGS, (start.date(), end.date()))
    pandas_frame = thin_silver(
        frame, org_id=org_id, start=start, end=end, sample_s=sample_s
    ).toPandas()
    if pandas_frame.empty:
        return READING_SCHEMA.empty_table()
    pandas_frame["timestamp"] = pd.to_datetime(pandas_frame["timestamp"], utc=True)
    return pa.Table.from_pandas(pandas_frame, preserve_index=False).cast(READING_SCHEMA)


def maintenance_failures(engine: Engine, *, org_id: str, lookback_days: float) -> LabelledEvents:
    """Trips and repairs from the maintenance log as labelled failures (onset unknown)."""
    with session_scope(engine, org_id=org_id) as session:
        rows = session.scalars(
            select(MaintenanceEvent).where(
                MaintenanceEvent.org_id == org_id, MaintenanceEvent.kind.in_(("trip", "repair"))
            )
        ).all()
        records = [
            (r.compressor_id, r.kind, r.started_at, r.ended_at, r.description or "", r.event_id)
            for r in rows
        ]
    trips = [r for r in records if r[1] == "trip"]
    faults = pd.DataFrame(
        [
            {
                "fault_id": event_id,
                "compressor_id": compressor,
                "fault_mode": description or "unknown",
                "failure": pd.Timestamp(started),
                "onset": pd.Timestamp(started) - pd.Timedelta(days=lookback_days),
                "back_in_service": pd.Timestamp(ended) if ended is not None else pd.NaT,
            }
            for compressor, _, started, ended, description, event_id in trips
        ],
        columns=["fault_id", "compressor_id", "fault_mode", "failure", "onset", "back_in_service"],
    )
    empty = pd.DataFrame(columns=["compressor_id", "start", "end"])
    return LabelledEvents(faults, empty, pd.DataFrame(), pd.DataFrame())
