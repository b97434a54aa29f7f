"""What the pipeline knows about each compressor besides its data: from the fleet file."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import DataFrame, SparkSession

from hub.lakehouse.conditions import ASSET_SCHEMA
from shared.fleet import Fleet, load_fleet

AssetRow = tuple[str, str, str, int | None, float | None, float | None]


def load_assets_fleet(path: Path | None) -> Fleet | None:
    """The fleet file, or None when none is configured or it is absent."""
    if path is None or not Path(path).exists():
        return None
    return load_fleet(path)


def asset_rows(fleet: Fleet | None) -> list[AssetRow]:
    """(org, station, compressor, stages, discharge temp trip °F, vibration trip mm/s)."""
    if fleet is None:
        return []
    rows: list[AssetRow] = []
    for organisation in fleet.organisations:
        for station in organisation.stations:
            for compressor in station.compressors:
                traits = compressor.characteristics
                rows.append(
                    (
                        organisation.id,
                        station.id,
                        compressor.id,
                        compressor.stages,
                        traits.discharge_temp_trip_f,
                        traits.vibration_trip_mms,
                    )
                )
    return rows


def assets_frame(spark: SparkSession, rows: list[AssetRow]) -> DataFrame:
    return spark.createDataFrame(rows, ASSET_SCHEMA)
