"""Audits: a content hash per table, and reports of what gold holds. Read-only."""

from __future__ import annotations

from dataclasses import dataclass

from pyspark.sql import DataFrame
from pyspark.sql import functions as F

from hub.lakehouse.io import Lake
from hub.lakehouse.tables import ALERT_EPISODES, DATA_QUALITY, SILVER_AND_GOLD, TableSpec


def content_hash(frame: DataFrame) -> str:
    """A hash of a table's rows that ignores their order and the files they are in.

    Each row is serialised as JSON (columns sorted by name), hashed with SHA-256, and
    the hashes are added up exactly: equal multisets of rows give equal hashes.
    """
    row = F.sha2(F.to_json(F.struct(*sorted(frame.columns))), 256)
    parts = [
        F.conv(F.substring(row, 1 + 15 * i, 15), 16, 10).cast("decimal(38,0)") for i in range(4)
    ]
    totals = frame.select(*(p.alias(f"h{i}") for i, p in enumerate(parts))).agg(
        F.count(F.lit(1)).alias("rows"), *(F.sum(f"h{i}").alias(f"h{i}") for i in range(4))
    )
    result = totals.first()
    assert result is not None
    sums = "-".join(format(int(result[f"h{i}"] or 0), "x") for i in range(4))
    return f"{result['rows']}:{sums}"


def table_hashes(lake: Lake, specs: tuple[TableSpec, ...] = SILVER_AND_GOLD) -> dict[str, str]:
    return {f"{s.layer}/{s.name}": content_hash(lake.read(s)) for s in specs if lake.exists(s)}


@dataclass(frozen=True)
class EpisodeCount:
    compressor_id: str
    condition: str
    category: str
    episodes: int
    worst: str


def episode_counts(lake: Lake) -> list[EpisodeCount]:
    rows = (
        lake.read(ALERT_EPISODES)
        .groupBy("compressor_id", "condition", "category")
        .agg(
            F.count(F.lit(1)).alias("episodes"),
            F.max(F.when(F.col("severity") == "critical", 2).otherwise(1)).alias("worst"),
        )
        .orderBy("compressor_id", "condition")
        .collect()
    )
    return [
        EpisodeCount(
            r.compressor_id,
            r.condition,
            r.category,
            r.episodes,
            "critical" if r.worst == 2 else "warning",
        )
        for r in rows
    ]


def data_quality_totals(lake: Lake) -> DataFrame:
    counts = [c for c in DATA_QUALITY.schema.fieldNames() if c.startswith("n_")]
    return (
        lake.read(DATA_QUALITY)
        .groupBy("station_id", "compressor_id")
        .agg(*(F.sum(c).alias(c) for c in counts))
        .orderBy("station_id", "compressor_id")
    )
