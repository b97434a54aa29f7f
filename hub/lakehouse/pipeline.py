"""Running the lakehouse: landing -> bronze -> silver -> gold (-> serving database).

Two Structured Streaming queries, each with its own checkpoint:

* `bronze_readings`: the file source over the landing zone into the bronze Delta
  table (foreachBatch, `_BronzeWriter`). The source records which files each
  micro-batch read; the append carries the micro-batch id as Delta's
  txnAppId/txnVersion, so a landing file reaches bronze once.
* `silver_gold`: bronze (a Delta source) into silver and gold with foreachBatch
  (hub.lakehouse.batch). Every write is a MERGE carrying the micro-batch id as
  Delta's txnAppId/txnVersion, and every step recomputes from the tables, so a
  micro-batch replayed after a crash completes instead of repeating.

`run_once` processes what has landed and returns; `ContinuousPipeline` keeps both
queries running on the configured trigger interval.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery

from hub.errors import LakehouseError
from hub.lakehouse import maintenance
from hub.lakehouse.assets import asset_rows, load_assets_fleet
from hub.lakehouse.batch import MicroBatch
from hub.lakehouse.bronze import reading_spark_schema, to_bronze
from hub.lakehouse.io import Lake, Txn
from hub.lakehouse.output import BatchOutput
from hub.lakehouse.tables import BRONZE_READINGS
from hub.settings import HubSettings

log = logging.getLogger(__name__)

BRONZE_QUERY = "bronze_readings"
SILVER_GOLD_QUERY = "silver_gold"

AfterCommit = Callable[[SparkSession, BatchOutput], None]


@dataclass(frozen=True)
class PipelineRun:
    bronze_rows_added: int
    batches: int
    silver_batches: int = 0
    readings_processed: int = 0
    maintained: tuple[str, ...] = field(default=())
    #: Wall time of the landing -> bronze query and of the silver/gold query.
    bronze_seconds: float = 0.0
    silver_gold_seconds: float = 0.0


def _landing_stream(spark: SparkSession, settings: HubSettings) -> DataFrame:
    landing = str(settings.landing_dir.resolve())
    settings.landing_dir.mkdir(parents=True, exist_ok=True)
    return (
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


class _BronzeWriter:
    """The bronze query's foreachBatch: landed rows appended once, each station's together.

    Spark packs landing files into tasks largest first, so a plain streaming write
    mixes every station's hours into every bronze file; the silver/gold query, which
    takes `max_bronze_files_per_trigger` files at a time, then sees each compressor
    spread over the whole backlog in every micro-batch and re-reads it all each time.
    Grouping by station and ordering by compressor and time keeps a bronze file to a
    few compressors and a contiguous stretch of time. The append carries the query id
    and micro-batch id as Delta's txnAppId/txnVersion: a micro-batch replayed after a
    crash is skipped by Delta, as the streaming Delta sink would skip it.
    """

    def __init__(self, lake: Lake, settings: HubSettings, query_id: Callable[[], str]) -> None:
        self.lake = lake
        self.settings = settings
        self.query_id = query_id

    def __call__(self, landed: DataFrame, batch_id: int) -> None:
        rows = (
            to_bronze(landed)
            .repartition(self.settings.spark.shuffle_partitions, "org_id", "station_id")
            .sortWithinPartitions("org_id", "station_id", "compressor_id", "timestamp")
        )
        self.lake.append(
            BRONZE_READINGS,
            rows,
            txn=Txn(f"altaviz:{self.query_id()}:bronze/readings", batch_id),
            max_records_per_file=self.settings.pipeline.bronze_rows_per_file,
        )


def _bronze_query(
    spark: SparkSession, settings: HubSettings, *, available_now: bool
) -> StreamingQuery:
    lake = Lake(spark, settings.lake_root)
    checkpoint = lake.paths.checkpoint(BRONZE_QUERY)
    writer = (
        _landing_stream(spark, settings)
        .writeStream.foreachBatch(_BronzeWriter(lake, settings, _QueryId(spark, checkpoint)))
        .option("checkpointLocation", checkpoint)
        .queryName(BRONZE_QUERY)
    )
    return _trigger(writer, settings, available_now).start()


def _trigger(writer, settings: HubSettings, available_now: bool):  # type: ignore[no-untyped-def]
    if available_now:
        return writer.trigger(availableNow=True)
    return writer.trigger(processingTime=f"{settings.pipeline.trigger_interval_s} seconds")


class _QueryId:
    """A streaming query's id, from its checkpoint (stable across restarts, new if reset)."""

    def __init__(self, spark: SparkSession, checkpoint: str) -> None:
        self._spark = spark
        self._checkpoint = checkpoint
        self._value: str | None = None

    def __call__(self) -> str:
        if self._value is None:
            line = self._spark.read.text(f"{self._checkpoint}/metadata").first()
            if line is None:
                raise LakehouseError(f"streaming checkpoint {self._checkpoint} has no metadata")
            self._value = str(json.loads(line[0])["id"])
        return self._value


class Lakehouse:
    """Both queries over one SparkSession, the tables, and what runs after each micro-batch."""

    def __init__(
        self, spark: SparkSession, settings: HubSettings, *, after_commit: AfterCommit | None = None
    ) -> None:
        self.spark = spark
        self.settings = settings
        self.lake = Lake(spark, settings.lake_root)
        self.after_commit = after_commit
        checkpoint = self.lake.paths.checkpoint(SILVER_GOLD_QUERY)
        self.micro_batch = MicroBatch(
            self.lake,
            settings,
            asset_rows(load_assets_fleet(settings.pipeline.seed_fleet)),
            query_id=_QueryId(spark, checkpoint),
            after_commit=self._after_commit,
        )
        self.maintenance = maintenance.Schedule(self.lake, settings.pipeline)
        self.lake.ensure_tables()

    def _after_commit(self, spark: SparkSession, output: BatchOutput) -> None:
        if self.after_commit is not None:
            self.after_commit(spark, output)
        # Between micro-batches of the only silver/gold writer: nothing races the compaction.
        self.maintenance.run_if_due()

    def bronze_query(self, *, available_now: bool) -> StreamingQuery:
        return _bronze_query(self.spark, self.settings, available_now=available_now)

    def silver_gold_query(self, *, available_now: bool) -> StreamingQuery:
        writer = (
            self.lake.bronze_stream(
                self.settings.pipeline.max_bronze_files_per_trigger,
                self.settings.pipeline.max_bronze_bytes_per_trigger,
            )
            .writeStream.foreachBatch(self.micro_batch)
            .option("checkpointLocation", self.lake.paths.checkpoint(SILVER_GOLD_QUERY))
            .queryName(SILVER_GOLD_QUERY)
        )
        return _trigger(writer, self.settings, available_now).start()

    def bronze_exists(self) -> bool:
        return self.lake.exists(BRONZE_READINGS)


def _await(query: StreamingQuery) -> list[dict]:  # type: ignore[type-arg]
    query.awaitTermination()
    if query.exception() is not None:
        raise LakehouseError(f"{query.name} query failed: {query.exception()}")
    return [p for p in query.recentProgress if p.get("numInputRows", 0)]


def run_once(
    spark: SparkSession, settings: HubSettings, *, after_commit: AfterCommit | None = None
) -> PipelineRun:
    """Process everything landed so far through bronze, silver and gold, then return."""
    lakehouse = Lakehouse(spark, settings, after_commit=after_commit)
    started = time.monotonic()
    bronze = _await(lakehouse.bronze_query(available_now=True))
    bronze_seconds = time.monotonic() - started
    bronze_rows = sum(int(p["numInputRows"]) for p in bronze)
    if not lakehouse.bronze_exists():
        return PipelineRun(
            bronze_rows_added=bronze_rows, batches=len(bronze), bronze_seconds=bronze_seconds
        )
    done_before = len(lakehouse.micro_batch.results)
    started = time.monotonic()
    _await(lakehouse.silver_gold_query(available_now=True))
    silver_gold_seconds = time.monotonic() - started
    results = lakehouse.micro_batch.results[done_before:]
    lakehouse.maintenance.run_if_due()
    return PipelineRun(
        bronze_rows_added=bronze_rows,
        batches=len(bronze),
        silver_batches=sum(1 for r in results if r.readings),
        readings_processed=sum(r.readings for r in results),
        maintained=tuple(lakehouse.maintenance.done),
        bronze_seconds=bronze_seconds,
        silver_gold_seconds=silver_gold_seconds,
    )


class ContinuousPipeline:
    """Both queries on the trigger interval; the silver/gold one starts once bronze exists."""

    def __init__(
        self, spark: SparkSession, settings: HubSettings, *, after_commit: AfterCommit | None = None
    ) -> None:
        self.lakehouse = Lakehouse(spark, settings, after_commit=after_commit)
        self.queries: list[StreamingQuery] = []
        self._silver_gold: StreamingQuery | None = None

    def start(self) -> None:
        self.queries.append(self.lakehouse.bronze_query(available_now=False))
        self.poll()

    def poll(self) -> None:
        """Raise if a query failed; start silver/gold as soon as bronze has a table."""
        for query in self.queries:
            if query.exception() is not None:
                raise LakehouseError(f"{query.name} query failed: {query.exception()}")
        if self._silver_gold is None and self.lakehouse.bronze_exists():
            self._silver_gold = self.lakehouse.silver_gold_query(available_now=False)
            self.queries.append(self._silver_gold)

    def stop(self) -> None:
        for query in reversed(self.queries):
            query.stop()


def start_continuous(spark: SparkSession, settings: HubSettings) -> list[StreamingQuery]:
    """Start the streaming queries with the configured trigger interval (see ContinuousPipeline)."""
    pipeline = ContinuousPipeline(spark, settings)
    pipeline.start()
    return pipeline.queries
