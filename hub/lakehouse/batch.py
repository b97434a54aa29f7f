"""One silver/gold micro-batch: the bronze rows Spark hands to foreachBatch, through to gold.

Every step recomputes the keys the batch may have changed (hub.lakehouse.scope)
with pure transforms, from the tables' current content plus what this batch
already wrote, and MERGEs the result tagged with the micro-batch id. A replay after
a crash therefore finds the committed steps already done (Delta skips them by
txnVersion) and finishes the rest; a second pass over the same data changes nothing.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, wait
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import reduce
from typing import TYPE_CHECKING

import pandas as pd
from pyspark.sql import DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.util import inheritable_thread_target

from hub.lakehouse import (
    aggregates,
    conditions,
    episodes,
    features,
    monitoring,
    silver,
    status,
)
from hub.lakehouse.assets import AssetRow, assets_frame
from hub.lakehouse.calendar import calendar_columns
from hub.lakehouse.diff import NEW_ROW, changed, missing
from hub.lakehouse.io import Lake, Txn
from hub.lakehouse.output import BatchOutput
from hub.lakehouse.performance import hourly_performance_columns
from hub.lakehouse.scope import (
    FAR_FUTURE,
    TimeRange,
    date_bounds,
    floor_to,
    prune,
    ranges_frame,
    reshape,
    time_ranges,
    widen,
    within,
)
from hub.lakehouse.sensor_status import with_sensor_status
from hub.lakehouse.tables import (
    ALERT_EPISODES,
    COMPRESSOR_HEALTH,
    DAILY,
    DATA_QUALITY,
    FEATURES_1M,
    HOURLY,
    MODEL_HOURS,
    MODEL_SCORES,
    SILVER_READINGS,
    STATION_FRESHNESS,
    TableSpec,
)
from hub.settings import HubSettings
from shared.schema import SENSOR_FIELDS
from shared.thresholds import load_sensor_limits

if TYPE_CHECKING:
    from hub.scoring.stage import ScoringStage

log = logging.getLogger(__name__)

MINUTE, HOUR, DAY = 60, 3600, 86400
ROLLING_CONTEXT = timedelta(hours=25)  # 24 h windows plus the hour the rate of change looks back
ROLLING_REACH = timedelta(hours=24)  # a minute's value reaches this far into later windows
EPOCH_START = datetime(1970, 1, 2)


def _union(frames: list[DataFrame]) -> DataFrame:
    return reduce(lambda a, b: a.unionByName(b), frames)


def _far(_: TimeRange) -> datetime:
    return FAR_FUTURE


def _floor(seconds: int) -> Callable[[TimeRange], datetime]:
    return lambda r: floor_to(r.start, seconds)


def _ceil(seconds: int) -> Callable[[TimeRange], datetime]:
    return lambda r: floor_to(r.end, seconds) + timedelta(seconds=seconds - 1e-6)


@dataclass
class _Silver:
    post: DataFrame  # silver within the batch's context, as it is after the batch
    changes: DataFrame
    region: list[TimeRange]
    gold: list[TimeRange]


@contextmanager
def _partitions(spark: SparkSession, partitions: int) -> Iterator[None]:
    """Shuffle and Delta snapshot partitions for one micro-batch (restored afterwards)."""
    keys = ("spark.sql.shuffle.partitions", "spark.databricks.delta.snapshotPartitions")
    before = {key: spark.conf.get(key, None) for key in keys}
    for key in keys:
        spark.conf.set(key, str(partitions))
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def _side_by_side(spark: SparkSession, parallel: bool, *steps: Callable[[], None]) -> None:
    """Run independent steps, in threads when `parallel` (a small micro-batch's stages run
    on one partition, so a second step keeps the other core busy, and one step's planning
    and Delta commit overlap another's tasks). Every step has ended when this returns; the
    first failure is raised after that, so no step writes once the micro-batch has failed.
    """
    if not parallel or len(steps) < 2:
        for step in steps:
            step()
        return
    with ThreadPoolExecutor(max_workers=len(steps), thread_name_prefix="micro-batch") as pool:
        # Each thread gets the batch's local properties and job tags (the streaming query's).
        futures = [pool.submit(inheritable_thread_target(spark)(step)) for step in steps]
        wait(futures)
    for future in futures:
        future.result()


@contextmanager
def _step(output: BatchOutput, name: str) -> Iterator[None]:
    """Time one step of the micro-batch into `output.steps` (logged with the batch)."""
    started = time.monotonic()
    try:
        yield
    finally:
        output.steps[name] = output.steps.get(name, 0.0) + time.monotonic() - started


class MicroBatch:
    """The foreachBatch function of the silver/gold query."""

    def __init__(
        self,
        lake: Lake,
        settings: HubSettings,
        assets: list[AssetRow],
        *,
        timezones: dict[str, str] | None = None,
        scoring: ScoringStage | None = None,
        query_id: Callable[[], str],
        after_commit: Callable[[SparkSession, BatchOutput], None] | None = None,
    ) -> None:
        self.lake = lake
        self.settings = settings
        self.assets = assets
        self.timezones = timezones or {}
        self.scoring = scoring
        self.sensor_limits = load_sensor_limits()
        self.query_id = query_id
        self.after_commit = after_commit
        self.results: list[BatchOutput] = []

    # -- helpers ----------------------------------------------------------------

    def _txn(self, spec: TableSpec, batch_id: int, part: str = "") -> Txn:
        """One write's identity; `part` names a second write to the same table in a batch."""
        suffix = f"/{part}" if part else ""
        return Txn(f"altaviz:{self.query_id()}:{spec.layer}/{spec.name}{suffix}", batch_id)

    def _sensor_status(self, frame: DataFrame) -> DataFrame:
        """`<sensor>_status` of gold minute or hour rows (null for a sensor without limits)."""
        judged = with_sensor_status(frame, self.sensor_limits)
        return judged.withColumns(
            {
                f"{s}_status": F.lit(None).cast("string")
                for s in SENSOR_FIELDS
                if f"{s}_status" not in judged.columns
            }
        )

    def _read(
        self, spark: SparkSession, spec: TableSpec, ranges: list[TimeRange], column: str
    ) -> DataFrame:
        frame = self.lake.read_dates(spec, date_bounds(ranges), session=spark)
        return within(
            prune(frame, ranges, column), ranges_frame(spark, ranges), column
        ).localCheckpoint(eager=True)

    def _write_changes(
        self,
        spec: TableSpec,
        new: DataFrame,
        old: DataFrame,
        batch_id: int,
        dates: tuple | None = None,  # type: ignore[type-arg]
    ) -> None:
        """MERGE only the rows that differ from `old`, and delete the keys `new` dropped."""
        upserts = changed(new, old, spec.keys, spec.schema.fieldNames())
        removed = missing(old, new, spec.keys)
        self.lake.merge(spec, upserts, txn=self._txn(spec, batch_id), deletes=removed, dates=dates)

    def _assets(self, spark: SparkSession) -> DataFrame:
        return F.broadcast(assets_frame(spark, self.assets))

    def _upsert(self, spec: TableSpec, new: DataFrame, batch_id: int) -> None:
        """MERGE every recomputed row (small tables: cheaper than reading them to compare)."""
        self.lake.merge(spec, new, txn=self._txn(spec, batch_id))

    # -- the batch ----------------------------------------------------------------

    def __call__(self, bronze: DataFrame, batch_id: int) -> None:
        started = time.monotonic()
        spark = bronze.sparkSession
        output = BatchOutput(batch_id)
        with _step(output, "read"):
            readings = silver.to_readings(bronze).localCheckpoint(eager=True)
            ranges = time_ranges(readings)
        if ranges:
            output.readings = sum(r.rows for r in ranges)
            with _partitions(spark, self._partitions_for(output.readings)):
                self._process(spark, readings, ranges, batch_id, output)
        output.seconds = time.monotonic() - started
        self.results.append(output)
        log.info(
            "micro-batch %d: %d reading(s), %.1fs (%s)",
            batch_id,
            output.readings,
            output.seconds,
            ", ".join(f"{name} {seconds:.1f}s" for name, seconds in output.steps.items()),
        )

    def _partitions_for(self, readings: int) -> int:
        spark = self.settings.spark
        small = readings < spark.small_batch_readings
        return 1 if small else spark.shuffle_partitions

    def _process(
        self,
        spark: SparkSession,
        readings: DataFrame,
        ranges: list[TimeRange],
        batch_id: int,
        output: BatchOutput,
    ) -> None:
        output.orgs = sorted({r.org_id for r in ranges})
        output.compressors = [r.compressor for r in ranges]  # type: ignore[misc]
        with _step(output, "silver"):
            state = self._silver(spark, readings, ranges, batch_id, output)
        parallel = output.readings < self.settings.spark.small_batch_readings

        def gold() -> None:
            self._gold(spark, state, batch_id, output, parallel=parallel)

        def scoring() -> None:
            with _step(output, "scoring"):
                self._score(spark, state, batch_id, output)

        def freshness() -> None:
            with _step(output, "freshness"):
                self._freshness(spark, readings, batch_id, output)

        def data_quality() -> None:
            with _step(output, "data_quality"):
                self._data_quality(spark, state, batch_id, output)

        # Gold, the models, freshness and data quality read silver (written above) and
        # write tables of their own: none waits for another.
        steps = [gold, scoring] if state.gold and self.scoring is not None else [gold]
        _side_by_side(spark, parallel, *(steps if state.gold else []), freshness, data_quality)
        if output.model_scores is not None:
            output.scores = (
                output.model_scores
                if output.scores is None
                else output.scores.unionByName(output.model_scores)
            )
        if self.after_commit is not None:
            with _step(output, "after_commit"):
                self.after_commit(spark, output)

    # -- silver -------------------------------------------------------------------

    def _silver(
        self,
        spark: SparkSession,
        readings: DataFrame,
        ranges: list[TimeRange],
        batch_id: int,
        output: BatchOutput,
    ) -> _Silver:
        rules = self.settings.quality
        context = timedelta(seconds=rules.context_s)
        # Whole hours, so the data-quality hours of the region are inside it too.
        context_ranges = reshape(widen(ranges, 2 * context, 2 * context), _floor(HOUR), _ceil(HOUR))
        region = widen(ranges, context, context)
        existing = self._read(spark, SILVER_READINGS, context_ranges, "timestamp")
        post = silver.silver_pass(
            readings,
            existing,
            ranges_frame(spark, region),
            rules,
            late_horizon_s=self.settings.pipeline.late_horizon_h * 3600,
        ).localCheckpoint(eager=True)
        changes = post.filter(F.col(silver.CHANGED)).drop(silver.STORED, silver.CHANGED)
        post = post.drop(silver.STORED, silver.CHANGED, NEW_ROW)
        output.silver_changes = changes
        self.lake.merge(
            SILVER_READINGS,
            changes,
            txn=self._txn(SILVER_READINGS, batch_id),
            dates=date_bounds(context_ranges),
        )
        # Gold is recomputed over the whole region, not just the rows this run wrote: a
        # micro-batch replayed after a crash finds silver already written, and must still
        # bring gold to the same state.
        return _Silver(post, changes, region, region)

    # -- gold ---------------------------------------------------------------------

    def _gold(
        self,
        spark: SparkSession,
        state: _Silver,
        batch_id: int,
        output: BatchOutput,
        *,
        parallel: bool = False,
    ) -> None:
        gold = state.gold
        with _step(output, "episode_context"):
            compressors = ranges_frame(
                spark, reshape(gold, lambda r: EPOCH_START, lambda r: FAR_FUTURE)
            )
            stored, restarts, signal_start = self._episode_context(spark, gold, compressors)
        with _step(output, "features"):
            post_features = self._features(spark, state, signal_start, batch_id)
            output.recent_minutes = features.latest_minutes(
                post_features, self.settings.pipeline.serving_recent_window_min
            )
        with _step(output, "daily"):
            post_daily = self._daily(spark, gold, post_features, batch_id, output)
        with _step(output, "signals"):
            signals = self._signals(spark, gold, post_features, post_daily, signal_start)
        after: dict[str, DataFrame] = {}

        def episodes_step() -> None:
            with _step(output, "episodes"):
                after["episodes"] = self._episodes(signals, stored, restarts, batch_id, output)

        def hourly_step() -> None:
            with _step(output, "hourly"):
                hours = reshape(gold, _floor(HOUR), lambda r: FAR_FUTURE)
                self._hourly(spark, signals, hours, batch_id, output)

        _side_by_side(spark, parallel, episodes_step, hourly_step)
        with _step(output, "health"):
            health = status.compressor_health(signals, after["episodes"]).localCheckpoint(
                eager=True
            )
            self._upsert(COMPRESSOR_HEALTH, health, batch_id)
            output.health = health

    def _episode_context(
        self, spark: SparkSession, gold: list[TimeRange], compressors: DataFrame
    ) -> tuple[DataFrame, DataFrame, dict[tuple[str, str, str | None], datetime]]:
        """Stored episodes, where each compressor's episodes restart, and where signals start."""
        alerts = self.settings.alerts
        stored = within(
            self.lake.read(ALERT_EPISODES, session=spark), compressors, "first_seen_at"
        ).localCheckpoint(eager=True)
        region_starts = spark.createDataFrame(
            [(r.org_id, r.station_id, r.compressor_id, r.start) for r in gold],
            "org_id string, station_id string, compressor_id string, region_start timestamp",
        )
        restarts = episodes.restart_points(region_starts, stored, alerts).localCheckpoint(
            eager=True
        )
        earliest = {
            (r.org_id, r.station_id, r.compressor_id): datetime.fromtimestamp(r.first)
            for r in restarts.groupBy(*silver.COMPRESSOR)
            .agg(F.min("restart_s").alias("first"))
            .collect()
        }
        signal_start = {
            r.compressor: min(floor_to(r.start, DAY), earliest.get(r.compressor, r.start))  # type: ignore[arg-type]
            for r in gold
        }
        return stored, restarts, signal_start

    def _signals(
        self,
        spark: SparkSession,
        gold: list[TimeRange],
        post_features: DataFrame,
        post_daily: DataFrame,
        signal_start: dict[tuple[str, str, str | None], datetime],
    ) -> DataFrame:
        """Condition signals and the health score of every minute from `signal_start` on."""
        alerts = self.settings.alerts
        minutes = within(
            post_features,
            ranges_frame(
                spark, reshape(gold, lambda r: signal_start[r.compressor], lambda r: FAR_FUTURE)
            ),  # type: ignore[index]
            "minute_start",
        )
        days = minutes.select(*silver.COMPRESSOR, F.to_date("minute_start").alias("day")).distinct()
        baseline = conditions.baselines(post_daily, days, alerts)
        return (
            conditions.with_signals(minutes, self._assets(spark), baseline, alerts)
            .withColumn("health", conditions.health_score(alerts))
            .localCheckpoint(eager=True)
        )

    def _features(
        self,
        spark: SparkSession,
        state: _Silver,
        signal_start: dict[tuple[str, str, str | None], datetime],
        batch_id: int,
    ) -> DataFrame:
        """Recompute features_1m around the changed minutes; return it as it is afterwards."""
        minute_ranges = reshape(state.gold, _floor(MINUTE), _ceil(MINUTE))
        rolling_context = widen(minute_ranges, ROLLING_CONTEXT, ROLLING_REACH)
        read_ranges = reshape(
            rolling_context,
            lambda r: min(r.start, signal_start[r.compressor]),
            lambda r: FAR_FUTURE,
        )
        existing = self._read(spark, FEATURES_1M, read_ranges, "minute_start")
        new_base = features.minute_aggregates(
            within(state.post, ranges_frame(spark, minute_ranges), "timestamp")
        )
        keys = list(features.MINUTE_KEY)
        changed_minutes = within(existing, ranges_frame(spark, minute_ranges), "minute_start")
        kept = existing.select(*new_base.columns).join(
            changed_minutes.select(*keys), on=keys, how="left_anti"
        )
        combined = within(
            kept.unionByName(new_base), ranges_frame(spark, rolling_context), "minute_start"
        )
        combined = features.physics_features(combined, self._assets(spark)).localCheckpoint(
            eager=True
        )
        output_ranges = ranges_frame(spark, widen(minute_ranges, timedelta(0), ROLLING_REACH))
        recomputed = (
            self._sensor_status(
                within(
                    combined.join(features.rolling_features(combined), on=keys, how="inner"),
                    output_ranges,
                    "minute_start",
                )
            )
            .withColumn("feature_date", F.to_date("minute_start"))
            .withColumns(calendar_columns("minute_start", self.timezones))
            .localCheckpoint(eager=True)
        )
        old = within(existing, output_ranges, "minute_start")
        self._write_changes(FEATURES_1M, recomputed, old, batch_id, dates=date_bounds(read_ranges))
        untouched = existing.join(old.select(*keys), on=keys, how="left_anti")
        return recomputed.unionByName(untouched.select(*recomputed.columns)).localCheckpoint(
            eager=True
        )

    def _daily(
        self,
        spark: SparkSession,
        gold: list[TimeRange],
        post_features: DataFrame,
        batch_id: int,
        output: BatchOutput,
    ) -> DataFrame:
        day_ranges = reshape(gold, _floor(DAY), _ceil(DAY))
        new = aggregates.daily_aggregates(
            within(post_features, ranges_frame(spark, day_ranges), "minute_start")
        ).localCheckpoint(eager=True)
        # The baselines look back `baseline_days` from the earliest day recomputed.
        reach = timedelta(days=self.settings.alerts.baseline_days + 1)
        history_ranges = reshape(gold, lambda r: floor_to(r.start, DAY) - reach, _far)
        history = within(
            prune(self.lake.read(DAILY, session=spark), history_ranges, "day"),
            ranges_frame(spark, history_ranges),
            "day",
        )
        self._upsert(DAILY, new, batch_id)
        output.daily = new
        keys = list(DAILY.keys)
        older = history.join(new.select(*keys), on=keys, how="left_anti")
        return new.unionByName(older.select(*new.columns)).localCheckpoint(eager=True)

    def _episodes(
        self,
        signals: DataFrame,
        stored: DataFrame,
        restarts: DataFrame,
        batch_id: int,
        output: BatchOutput,
    ) -> DataFrame:
        minutes = (
            episodes.condition_minutes(signals, self.settings.alerts)
            .join(restarts, on=list(episodes.CONDITION_KEY), how="inner")
            .filter(F.col("minute_s") >= F.col("restart_s"))
            .drop("restart_s")
        )
        new = episodes.episodes(minutes).localCheckpoint(eager=True)
        replaceable = (
            stored.join(restarts, on=list(episodes.CONDITION_KEY), how="inner")
            .filter(F.unix_seconds("first_seen_at") > F.col("restart_s"))
            .drop("restart_s")
        )
        keys = list(ALERT_EPISODES.keys)
        output.episodes = new
        output.episodes_removed = missing(replaceable, new, keys).localCheckpoint(eager=True)
        self._write_changes(ALERT_EPISODES, new, replaceable, batch_id)
        kept = stored.join(replaceable.select(*keys), on=keys, how="left_anti")
        return new.unionByName(kept.select(*new.columns))

    def _hourly(
        self,
        spark: SparkSession,
        signals: DataFrame,
        hour_ranges: list[TimeRange],
        batch_id: int,
        output: BatchOutput,
    ) -> None:
        minutes = within(signals, ranges_frame(spark, hour_ranges), "minute_start")
        stages = self._assets(spark).select(*silver.COMPRESSOR, F.col("stages").alias("_stages"))
        new = (
            self._sensor_status(
                aggregates.hourly_aggregates(minutes)
                .join(
                    status.hourly_health(minutes), on=[*silver.COMPRESSOR, "hour_start"], how="left"
                )
                .join(stages, on=list(silver.COMPRESSOR), how="left")
            )
            # Unknown stages (no fleet entry): no figures rather than a guessed ratio.
            .withColumns(hourly_performance_columns(stages=F.col("_stages").cast("double")))
            .drop("_stages")
            .withColumns(calendar_columns("hour_start", self.timezones))
            .localCheckpoint(eager=True)
        )
        self.lake.merge(
            HOURLY, new, txn=self._txn(HOURLY, batch_id), dates=date_bounds(hour_ranges)
        )
        output.hourly = new
        output.scores = status.physics_scores(new).localCheckpoint(eager=True)
        self._upsert(MODEL_SCORES, output.scores, batch_id)

    # -- models -----------------------------------------------------------------------

    def _score(
        self, spark: SparkSession, state: _Silver, batch_id: int, output: BatchOutput
    ) -> None:
        """The champion models over what the batch touched: gold model_hours and model_scores.

        A model that is not registered or was refused at load writes nothing (its state is
        in the serving database); a model that fails while scoring is logged and skipped,
        so the lake keeps running on data the models cannot score.
        """
        assert self.scoring is not None
        hours: list[DataFrame] = []
        scores: list[DataFrame] = []
        for org_id in output.orgs:
            ranges = [r for r in state.gold if r.org_id == org_id]
            try:
                org_hours, org_scores = self._score_org(spark, org_id, ranges)
            except Exception:  # a model's failure must not stop the lake (logged loudly)
                log.exception("scoring org %s failed; its minutes stay unscored", org_id)
                continue
            hours += org_hours
            scores += org_scores
        if hours:
            self._upsert(MODEL_HOURS, _union(hours), batch_id)
        if scores:
            new = _union(scores).localCheckpoint(eager=True)
            self.lake.merge(MODEL_SCORES, new, txn=self._txn(MODEL_SCORES, batch_id, "models"))
            output.model_scores = new

    def _score_org(
        self, spark: SparkSession, org_id: str, ranges: list[TimeRange]
    ) -> tuple[list[DataFrame], list[DataFrame]]:
        assert self.scoring is not None
        stage = self.scoring
        champions = stage.champions(org_id)
        since = min(r.start for r in ranges)
        start = stage.silver_start(champions, since)
        partials = None
        if start is not None:
            stamp = pd.Timestamp(start)
            if stamp.tzinfo is not None:
                stamp = stamp.tz_convert("UTC").tz_localize(None)
            first = stamp.to_pydatetime()
            readings = self._read(
                spark, SILVER_READINGS, reshape(ranges, lambda r: first, _far), "timestamp"
            )
            partials = stage.partials(readings, champions, since=since)
            partials = None if partials is None else partials.localCheckpoint(eager=True)
        hours: list[DataFrame] = []
        scores: list[DataFrame] = []
        minutes = stage.minute_scores(partials, champions, since=since)
        if minutes is not None:
            scores.append(minutes)
        new_hours = stage.model_hours(partials, champions)
        if new_hours is not None:
            new_hours = new_hours.localCheckpoint(eager=True)
            hours.append(new_hours)
            history = self._model_hours_history(spark, ranges, stage.history_days(champions))
            keys = list(MODEL_HOURS.keys)
            older = history.join(new_hours.select(*keys), on=keys, how="left_anti")
            hourly = stage.hour_scores(
                new_hours.unionByName(older.select(*new_hours.columns)), champions, since=since
            )
            if hourly is not None:
                scores.append(hourly)
        return hours, scores

    def _model_hours_history(
        self, spark: SparkSession, ranges: list[TimeRange], days: float | None
    ) -> DataFrame:
        """Stored model hours of the ranges' stations (from `days` before; None: all)."""
        first: dict[tuple[str, str], datetime] = {}
        for r in ranges:
            key = (r.org_id, r.station_id)
            first[key] = min(first.get(key, r.start), r.start)
        stations = [
            TimeRange(
                org,
                station,
                None,
                EPOCH_START if days is None else floor_to(start, HOUR) - timedelta(days=days),
                FAR_FUTURE,
            )
            for (org, station), start in sorted(first.items())
        ]
        frame = self.lake.read(MODEL_HOURS, session=spark)
        return within(
            prune(frame, stations, "hour"), ranges_frame(spark, stations, stations=True), "hour"
        )

    # -- freshness and data quality -----------------------------------------------------

    def _freshness(
        self, spark: SparkSession, readings: DataFrame, batch_id: int, output: BatchOutput
    ) -> None:
        new = monitoring.station_freshness(self.lake, spark, readings)
        self._upsert(STATION_FRESHNESS, new, batch_id)
        output.freshness = new

    def _data_quality(
        self, spark: SparkSession, state: _Silver, batch_id: int, output: BatchOutput
    ) -> None:
        hour_ranges = reshape(state.region, _floor(HOUR), _ceil(HOUR))
        new = monitoring.data_quality(
            self.lake, spark, self.settings.quality, hour_ranges, state.post
        )
        txn = self._txn(DATA_QUALITY, batch_id)
        self.lake.merge(DATA_QUALITY, new, txn=txn, dates=date_bounds(hour_ranges))
        output.data_quality = new
