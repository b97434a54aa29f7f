"""The one place that reads and writes Delta tables (batch and streaming).

Transforms never touch storage; the pipeline hands them DataFrames from here and
gives their results back to `Lake.merge`. Every silver/gold write is a MERGE tagged
with the streaming micro-batch id (Delta's txnAppId/txnVersion), so a replayed
micro-batch after a crash is skipped by Delta itself where it already committed.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date

from delta.tables import DeltaTable
from pyspark.errors import AnalysisException
from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F

from hub.errors import LakehouseError
from hub.lakehouse.diff import NEW_ROW
from hub.lakehouse.tables import SILVER_AND_GOLD, LakePaths, TableSpec

log = logging.getLogger(__name__)

_TXN_APP_ID = "spark.databricks.delta.write.txnAppId"
_TXN_VERSION = "spark.databricks.delta.write.txnVersion"
_DELETE_MARK = "_delete"
STATS_COLUMNS = 6


@dataclass(frozen=True)
class Txn:
    """Identity of one idempotent write: Delta skips a second commit with the same pair."""

    app_id: str
    version: int


#: Delta reads a MERGE's txnAppId/txnVersion from the session's conf, which every thread
#: of the session shares (a small micro-batch runs independent steps side by side): one
#: MERGE at a time, so none commits under another's identity or under none.
_MERGE_LOCK = threading.Lock()


@contextmanager
def _idempotent(spark: SparkSession, txn: Txn | None) -> Iterator[None]:
    with _MERGE_LOCK:
        if txn is None:
            yield
            return
        spark.conf.set(_TXN_APP_ID, txn.app_id)
        spark.conf.set(_TXN_VERSION, str(txn.version))
        try:
            yield
        finally:
            spark.conf.unset(_TXN_APP_ID)
            spark.conf.unset(_TXN_VERSION)


def conform(frame: DataFrame, spec: TableSpec) -> DataFrame:
    """Select the table's columns in order, cast to its types (one expression list)."""
    return frame.selectExpr(
        *(
            f"CAST(`{f.name}` AS {f.dataType.simpleString()}) AS `{f.name}`"
            for f in spec.schema.fields
        )
    )


class Lake:
    def __init__(self, spark: SparkSession, root: str) -> None:
        self.spark = spark
        self.paths = LakePaths(root)

    def path(self, spec: TableSpec) -> str:
        return self.paths.table(spec)

    # -- tables -------------------------------------------------------------

    def ensure_tables(self) -> None:
        """Create every silver and gold table that does not exist yet (bronze: its stream
        does); add to an existing table the nullable columns a newer version defines."""
        for spec in SILVER_AND_GOLD:
            if self.exists(spec):
                self._add_new_columns(spec)
                continue
            builder = (
                DeltaTable.createIfNotExists(self.spark)
                .location(self.path(spec))
                .addColumns(spec.schema)
                .comment(spec.description)
                # Statistics on the leading columns (keys and time) are what pruning uses.
                .property("delta.dataSkippingNumIndexedCols", str(STATS_COLUMNS))
            )
            if spec.partition_by:
                builder = builder.partitionedBy(*spec.partition_by)
            for key, value in spec.properties.items():
                builder = builder.property(key, value)
            builder.execute()

    def _add_new_columns(self, spec: TableSpec) -> None:
        present = set(self.read(spec).columns)
        added = [f for f in spec.schema.fields if f.name not in present]
        if not added:
            return
        required = [f.name for f in added if not f.nullable]
        if required:
            raise LakehouseError(
                f"{spec.layer}.{spec.name} at {self.path(spec)} lacks the required column(s) "
                f"{', '.join(required)} of this version; rebuild the lake from the landing zone"
            )
        columns = ", ".join(
            f"`{f.name}` {f.dataType.simpleString()}"
            + (f" COMMENT '{_quoted(f.metadata['comment'])}'" if f.metadata.get("comment") else "")
            for f in added
        )
        self.spark.sql(f"ALTER TABLE delta.`{self.path(spec)}` ADD COLUMNS ({columns})")
        log.info(
            "%s.%s: added column(s) %s", spec.layer, spec.name, ", ".join(f.name for f in added)
        )

    def exists(self, spec: TableSpec) -> bool:
        return DeltaTable.isDeltaTable(self.spark, self.path(spec))

    def read(self, spec: TableSpec, *, session: SparkSession | None = None) -> DataFrame:
        return (session or self.spark).read.format("delta").load(self.path(spec))

    def read_dates(
        self,
        spec: TableSpec,
        bounds: tuple[date, date],
        *,
        session: SparkSession | None = None,
    ) -> DataFrame:
        """Rows whose partition date lies within `bounds` (partition pruning)."""
        frame = self.read(spec, session=session)
        if not spec.partition_by:
            return frame
        column = F.col(spec.partition_by[0])
        return frame.filter(column.between(F.lit(bounds[0]), F.lit(bounds[1])))

    def count(self, spec: TableSpec) -> int:
        try:
            return int(self.read(spec).count())
        except AnalysisException:
            return 0

    # -- writes ---------------------------------------------------------------

    def merge(
        self,
        spec: TableSpec,
        upserts: DataFrame,
        *,
        txn: Txn | None,
        deletes: DataFrame | None = None,
        dates: tuple[date, date] | None = None,
    ) -> None:
        """Upsert rows by the table's key; delete rows whose keys are in `deletes`.

        Give only rows that changed: Delta rewrites every file a matched row lives in.
        If `upserts` has `_is_new` (hub.lakehouse.diff) and every row is new, this is an
        append (one job instead of a join). `dates` bounds the partitions a match may touch.
        """
        if deletes is not None and deletes.isEmpty():
            deletes = None
        if deletes is None:
            if NEW_ROW in upserts.columns:
                counts = dict(upserts.groupBy(NEW_ROW).count().collect())
                if not counts.get(False):  # nothing to update: append what is new
                    if counts.get(True):
                        self.append(spec, upserts, txn=txn)
                    return
            elif upserts.isEmpty():
                return
        spark = upserts.sparkSession
        source = conform(upserts, spec).withColumn(_DELETE_MARK, F.lit(False))
        if deletes is not None:
            keys_only = deletes.select(*spec.keys)
            filler = [
                F.lit(None).cast(f.dataType).alias(f.name)
                for f in spec.schema.fields
                if f.name not in spec.keys
            ]
            marked = keys_only.select(*spec.keys, *filler).select(*spec.schema.fieldNames())
            source = source.unionByName(conform(marked, spec).withColumn(_DELETE_MARK, F.lit(True)))
        condition: Column = F.lit(True)
        for key in spec.keys:
            condition = condition & (F.col(f"t.{key}") == F.col(f"s.{key}"))
        if dates is not None and spec.partition_by:
            part = F.col(f"t.{spec.partition_by[0]}")
            condition = condition & part.between(F.lit(dates[0]), F.lit(dates[1]))
        table = DeltaTable.forPath(spark, self.path(spec))
        keep = f"NOT s.{_DELETE_MARK}"
        with _idempotent(spark, txn):
            merge = table.alias("t").merge(source.alias("s"), condition)
            if deletes is not None:
                merge = merge.whenMatchedDelete(condition=f"s.{_DELETE_MARK}")
            merge.whenMatchedUpdateAll(condition=keep).whenNotMatchedInsertAll(
                condition=keep
            ).execute()

    def append(
        self,
        spec: TableSpec,
        rows: DataFrame,
        *,
        txn: Txn | None,
        max_records_per_file: int | None = None,
    ) -> None:
        """Append rows; with `txn`, a repeated (app id, version) is skipped by Delta."""
        writer = conform(rows, spec).write.format("delta").mode("append")
        if spec.partition_by:
            writer = writer.partitionBy(*spec.partition_by)  # creates the table if absent
        if max_records_per_file is not None:
            writer = writer.option("maxRecordsPerFile", max_records_per_file)
        if txn is not None:
            writer = writer.option("txnAppId", txn.app_id).option("txnVersion", txn.version)
        writer.save(self.path(spec))

    # -- maintenance ------------------------------------------------------------

    def last_operation_at(self, spec: TableSpec, operation: str):  # type: ignore[no-untyped-def]
        """When `operation` (e.g. OPTIMIZE) last ran on the table, from its Delta history."""
        history = DeltaTable.forPath(self.spark, self.path(spec)).history(200)
        row = history.filter(F.col("operation") == operation).agg(F.max("timestamp")).first()
        return row[0] if row else None

    def optimize(self, spec: TableSpec) -> None:
        DeltaTable.forPath(self.spark, self.path(spec)).optimize().executeCompaction()

    def vacuum(self, spec: TableSpec, retention_h: float) -> None:
        DeltaTable.forPath(self.spark, self.path(spec)).vacuum(retention_h)

    def history(self, spec: TableSpec, limit: int = 20) -> DataFrame:
        return DeltaTable.forPath(self.spark, self.path(spec)).history(limit)

    def read_version(
        self, spec: TableSpec, *, version: int | None = None, timestamp: str | None = None
    ) -> DataFrame:
        """Time travel: the table as it was at a version or a timestamp (for audits)."""
        reader = self.spark.read.format("delta")
        if version is not None:
            reader = reader.option("versionAsOf", version)
        if timestamp is not None:
            reader = reader.option("timestampAsOf", timestamp)
        return reader.load(self.path(spec))


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace("'", "\\'")
