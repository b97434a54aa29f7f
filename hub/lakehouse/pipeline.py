"""Running the lakehouse: landing -> bronze (Structured Streaming, checkpointed).

Exactly-once comes from the engine: the file source records which files each
micro-batch read in its checkpoint, and the Delta sink commits each micro-batch
once (by its batch id), so a restart neither skips nor repeats a landing file.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from pyspark.sql import SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from hub.lakehouse.bronze import reading_spark_schema, to_bronze
from hub.lakehouse.tables import LakePaths
from hub.settings import HubSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineRun:
    bronze_rows_added: int
    batches: int


def _bronze_query(
    spark: SparkSession, settings: HubSettings, *, available_now: bool
) -> StreamingQuery:
    paths = LakePaths(settings.lake_root)
    landing = str(settings.landing_dir.resolve())
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    stream = (
        spark.readStream.format("parquet")
        .schema(reading_spark_schema())
        .option("recursiveFileLookup", "true")
        .option("pathGlobFilter", "*.parquet")
        .option("maxFilesPerTrigger", settings.pipeline.max_files_per_trigger)
        .load(landing)
        .select(
            "*",
            F.col("_metadata.file_path").alias("file_path"),
            F.col("_metadata.file_modification_time").alias("file_modification_time"),
        )
    )
    writer = (
        to_bronze(stream)
        .writeStream.format("delta")
        .outputMode("append")
        .partitionBy("reading_date")
        .option("checkpointLocation", paths.checkpoint("bronze_readings"))
        .queryName("bronze_readings")
    )
    if available_now:
        writer = writer.trigger(availableNow=True)
    else:
        writer = writer.trigger(processingTime=f"{settings.pipeline.trigger_interval_s} seconds")
    return writer.start(paths.bronze_readings)


def run_once(spark: SparkSession, settings: HubSettings) -> PipelineRun:
    """Process everything landed so far, then return."""
    query = _bronze_query(spark, settings, available_now=True)
    query.awaitTermination()
    if query.exception() is not None:
        raise RuntimeError(f"bronze query failed: {query.exception()}")
    progress = [p for p in query.recentProgress if p.get("numInputRows", 0)]
    rows = sum(int(p["numInputRows"]) for p in progress)
    return PipelineRun(bronze_rows_added=rows, batches=len(progress))


def start_continuous(spark: SparkSession, settings: HubSettings) -> list[StreamingQuery]:
    """Start the streaming queries with the configured trigger interval."""
    return [_bronze_query(spark, settings, available_now=False)]
