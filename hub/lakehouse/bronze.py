"""Bronze: landed batches as received, plus ingest metadata. Append-only."""

from __future__ import annotations

from pyspark.sql import Column, DataFrame
from pyspark.sql import functions as F
from pyspark.sql import types as T

from shared.reading_table import READING_SCHEMA

#: Columns bronze adds to the reading schema.
BRONZE_METADATA_COLUMNS = ("org_id", "batch_id", "received_at", "landed_file", "reading_date")


def reading_spark_schema() -> T.StructType:
    """The v1 reading schema as Spark types (the landing files' schema)."""
    from pyspark.sql.pandas.types import from_arrow_schema

    return from_arrow_schema(READING_SCHEMA)


def _path_part(path: Column, key: str) -> Column:
    return F.regexp_extract(path, rf"/{key}=([^/]+)/", 1)


def to_bronze(landed: DataFrame) -> DataFrame:
    """Add ingest metadata to rows read from landing files.

    Expects the landing rows plus `file_path` and `file_modification_time` (from the
    file source's `_metadata`). The landing file name is the batch id; its
    `org=` directory is the org the ingest verified; its modification time is
    when the hub made it durable.
    """
    path = F.col("file_path")
    return (
        landed.withColumn("org_id", _path_part(path, "org"))
        .withColumn("batch_id", F.regexp_extract(path, r"/([^/]+)\.parquet$", 1))
        .withColumn("received_at", F.col("file_modification_time"))
        .withColumn("landed_file", path)
        .withColumn("reading_date", F.to_date(F.col("timestamp")))
        .drop("file_path", "file_modification_time")
    )
