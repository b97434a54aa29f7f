"""Running the lakehouse: landing -> bronze -> silver -> gold (-> serving database).

One Structured Streaming query, `lake`: the file source over the landing zone, with
foreachBatch (`_LakeBatch`). Each micro-batch reads its landed files once and keeps
them in memory; appends them to bronze, then takes the same rows through silver and
gold (hub.lakehouse.batch). The source's checkpoint records which files each
micro-batch read; every Delta write carries the query id and micro-batch id as
Delta's txnAppId/txnVersion, so a micro-batch replayed after a crash skips what it
already committed and finishes the rest: a landing file reaches every table once.

`run_once` processes what has landed and returns; `ContinuousPipeline` keeps the
query running on the configured trigger interval.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC
from typing import TYPE_CHECKING

from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql.streaming import StreamingQuery
from pyspark.storagelevel import StorageLevel

from hub.errors import LakehouseError
from hub.lakehouse import maintenance
from hub.lakehouse.assets import asset_rows, load_assets_fleet
from hub.lakehouse.batch import MicroBatch
from hub.lakehouse.bronze import reading_spark_schema, to_bronze
from hub.lakehouse.calendar import station_timezones
from hub.lakehouse.io import Lake, Txn
from hub.lakehouse.output import BatchOutput
from hub.lakehouse.tables import BRONZE_READINGS
from hub.observability.metrics import observe_micro_batch
from hub.settings import HubSettings

if TYPE_CHECKING:
    from hub.scoring.stage import ScoringStage

log = logging.getLogger(__name__)

LAKE_QUERY = "lake"
#: The checkpoints of the two-query pipeline before v2 (landing -> bronze, bronze -> gold).
_OLD_QUERIES = ("bronze_readings", "silver_gold")

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
        .options(**_read_limit(settings))
        .load(landing)
        .select(
            "*",
            F.col("_metadata.file_path").alias("file_path"),
            F.col("_metadata.file_modification_time").alias("file_modification_time"),
        )
    )


def _read_limit(settings: HubSettings) -> dict[str, str]:
    files = settings.pipeline.max_files_per_trigger
    if files is not None:
        return {"maxFilesPerTrigger": str(files)}
    return {"maxBytesPerTrigger": str(settings.pipeline.max_bytes_per_trigger)}


class _LakeBatch:
    """The query's foreachBatch: landed rows read once, appended to bronze, then silver/gold.

    The bronze append carries the query id and micro-batch id as Delta's
    txnAppId/txnVersion (a replay is skipped by Delta, as the streaming Delta sink
    would skip it); silver and gold are idempotent the same way (hub.lakehouse.batch).
    """

    def __init__(self, lake: Lake, settings: HubSettings, micro_batch: MicroBatch) -> None:
        self.lake = lake
        self.settings = settings
        self.micro_batch = micro_batch
        self.bronze_rows = 0
        self.bronze_seconds = 0.0

    def __call__(self, landed: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        rows = to_bronze(landed).persist(StorageLevel.MEMORY_AND_DISK)
        try:
            # One job: the count also fills the cache; the newest receipt gives the lag.
            count, newest = rows.agg(F.count(F.lit(1)), F.max("received_at")).first()  # type: ignore[misc]
            if count:
                self.lake.append(
                    BRONZE_READINGS,
                    rows,
                    txn=Txn(f"altaviz:{self.micro_batch.query_id()}:bronze/readings", batch_id),
                    max_records_per_file=self.settings.pipeline.bronze_rows_per_file,
                )
            self.bronze_rows += count
            self.bronze_seconds += time.monotonic() - started
            if count:
                self.micro_batch(rows, batch_id)
        finally:
            rows.unpersist()
        # How long the newest reading this micro-batch took had been landed when it was done.
        lag_s = None if newest is None else time.time() - newest.replace(tzinfo=UTC).timestamp()
        observe_micro_batch(time.monotonic() - started, count, lag_s, query=LAKE_QUERY)


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
    """The query over one SparkSession, the tables, and what runs after each micro-batch."""

    def __init__(
        self,
        spark: SparkSession,
        settings: HubSettings,
        *,
        after_commit: AfterCommit | None = None,
        scoring: ScoringStage | None = None,
    ) -> None:
        self.spark = spark
        self.settings = settings
        self.lake = Lake(spark, settings.lake_root)
        self.after_commit = after_commit
        self.checkpoint = self.lake.paths.checkpoint(LAKE_QUERY)
        _refuse_old_layout(self.lake)
        fleet = load_assets_fleet(settings.pipeline.seed_fleet)
        self.micro_batch = MicroBatch(
            self.lake,
            settings,
            asset_rows(fleet),
            timezones=station_timezones(fleet),
            scoring=scoring,
            query_id=_QueryId(spark, self.checkpoint),
            after_commit=self._after_commit,
        )
        self.batch = _LakeBatch(self.lake, settings, self.micro_batch)
        self.maintenance = maintenance.Schedule(self.lake, settings.pipeline)
        self.lake.ensure_tables()

    def _after_commit(self, spark: SparkSession, output: BatchOutput) -> None:
        if self.after_commit is not None:
            self.after_commit(spark, output)
        # Between micro-batches of the only writer: nothing races the compaction.
        self.maintenance.run_if_due()

    def query(self, *, available_now: bool) -> StreamingQuery:
        writer = (
            _landing_stream(self.spark, self.settings)
            .writeStream.foreachBatch(self.batch)
            .option("checkpointLocation", self.checkpoint)
            .queryName(LAKE_QUERY)
        )
        return _trigger(writer, self.settings, available_now).start()


def _refuse_old_layout(lake: Lake) -> None:
    """A lake the two-query pipeline wrote would be read again from the start: refuse it."""
    old = [name for name in _OLD_QUERIES if _exists(lake, lake.paths.checkpoint(name))]
    if old and not _exists(lake, lake.paths.checkpoint(LAKE_QUERY)):
        raise LakehouseError(
            f"the lake at {lake.paths.root} was written by the two-query pipeline of an "
            f"earlier version (checkpoints {', '.join(old)}); this version reads landing "
            "once for bronze, silver and gold. Rebuild the lake from the landing zone: move "
            "the lake directory aside and run `altaviz-hub pipeline --once`."
        )


def _exists(lake: Lake, path: str) -> bool:
    jvm = lake.spark.sparkContext._jvm  # type: ignore[attr-defined]
    hadoop_path = jvm.org.apache.hadoop.fs.Path(path)
    conf = lake.spark.sparkContext._jsc.hadoopConfiguration()  # type: ignore[attr-defined]
    return bool(hadoop_path.getFileSystem(conf).exists(hadoop_path))


def _await(query: StreamingQuery) -> list[dict]:  # type: ignore[type-arg]
    query.awaitTermination()
    if query.exception() is not None:
        raise LakehouseError(f"{query.name} query failed: {query.exception()}")
    return [p for p in query.recentProgress if p.get("numInputRows", 0)]


def run_once(
    spark: SparkSession,
    settings: HubSettings,
    *,
    after_commit: AfterCommit | None = None,
    scoring: ScoringStage | None = None,
) -> PipelineRun:
    """Process everything landed so far through bronze, silver and gold, then return.

    With `scoring`, the registry's champion models score what each micro-batch touched.
    """
    lakehouse = Lakehouse(spark, settings, after_commit=after_commit, scoring=scoring)
    started = time.monotonic()
    done_before = len(lakehouse.micro_batch.results)
    progress = _await(lakehouse.query(available_now=True))
    seconds = time.monotonic() - started
    results = lakehouse.micro_batch.results[done_before:]
    lakehouse.maintenance.run_if_due()
    return PipelineRun(
        bronze_rows_added=lakehouse.batch.bronze_rows,
        batches=len(progress),
        silver_batches=sum(1 for r in results if r.readings),
        readings_processed=sum(r.readings for r in results),
        maintained=tuple(lakehouse.maintenance.done),
        bronze_seconds=lakehouse.batch.bronze_seconds,
        silver_gold_seconds=seconds - lakehouse.batch.bronze_seconds,
    )


class ContinuousPipeline:
    """The query on the trigger interval."""

    def __init__(
        self,
        spark: SparkSession,
        settings: HubSettings,
        *,
        after_commit: AfterCommit | None = None,
        scoring: ScoringStage | None = None,
    ) -> None:
        self.lakehouse = Lakehouse(spark, settings, after_commit=after_commit, scoring=scoring)
        self.queries: list[StreamingQuery] = []

    def start(self) -> None:
        self.queries.append(self.lakehouse.query(available_now=False))

    def poll(self) -> None:
        """Raise if the query failed."""
        for query in self.queries:
            if query.exception() is not None:
                raise LakehouseError(f"{query.name} query failed: {query.exception()}")

    def stop(self) -> None:
        for query in reversed(self.queries):
            query.stop()


def start_continuous(spark: SparkSession, settings: HubSettings) -> list[StreamingQuery]:
    """Start the streaming query with the configured trigger interval (see ContinuousPipeline)."""
    pipeline = ContinuousPipeline(spark, settings)
    pipeline.start()
    return pipeline.queries
