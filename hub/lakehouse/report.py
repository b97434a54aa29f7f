"""`altaviz-hub lake ...`: what gold holds, content hashes, maintenance, table history."""

from __future__ import annotations

from typing import TextIO

from pyspark.sql import SparkSession

from hub.lakehouse import maintenance
from hub.lakehouse.audit import data_quality_totals, episode_counts, table_hashes
from hub.lakehouse.io import Lake
from hub.lakehouse.tables import ALL_TABLES, SILVER_AND_GOLD
from hub.settings import HubSettings


def print_alert_report(lake: Lake, out: TextIO) -> None:
    counts = episode_counts(lake)
    total = sum(c.episodes for c in counts)
    by_category: dict[str, int] = {}
    for c in counts:
        by_category[c.category] = by_category.get(c.category, 0) + c.episodes
    summary = ", ".join(f"{n} {k}" for k, n in sorted(by_category.items())) or "none"
    print(f"alert episodes: {total} ({summary})", file=out)
    for c in counts:
        print(
            f"  {c.compressor_id:<12} {c.condition:<34} {c.category:<13} {c.episodes:>3}  worst {c.worst}",
            file=out,
        )
    print("data quality (readings flagged per rule):", file=out)
    columns = [
        "n_readings",
        "n_duplicates",
        "n_gap",
        "n_clock_skew",
        "n_comm_loss",
        "n_stuck",
        "n_instrument",
        "n_range",
        "n_rate",
        "n_late",
    ]
    print("  " + f"{'compressor':<12}" + "".join(f"{c[2:]:>11}" for c in columns), file=out)
    for row in data_quality_totals(lake).collect():
        print(
            "  " + f"{row.compressor_id:<12}" + "".join(f"{row[c]:>11}" for c in columns), file=out
        )


def run(action: str, spark: SparkSession, settings: HubSettings, *, out: TextIO) -> None:
    lake = Lake(spark, settings.lake_root)
    if action == "report":
        print_alert_report(lake, out)
    elif action == "hash":
        for name, digest in table_hashes(lake, SILVER_AND_GOLD).items():
            print(f"{name:<28} {digest}", file=out)
    elif action == "maintain":
        schedule = maintenance.Schedule(lake, settings.pipeline)
        schedule.run()
        print(
            f"OPTIMIZE + VACUUM ({settings.pipeline.vacuum_retention_h:g} h retained): {', '.join(schedule.done)}",
            file=out,
        )
    elif action == "history":
        for spec in ALL_TABLES:
            if not lake.exists(spec):
                continue
            print(f"{spec.layer}/{spec.name}:", file=out)
            for row in lake.history(spec, 5).select("version", "timestamp", "operation").collect():
                print(f"  v{row.version:<5} {row.timestamp}  {row.operation}", file=out)
