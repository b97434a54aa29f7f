"""The serving-database section of docs/lakehouse.md, generated from the SQLAlchemy models.

.venv/bin/python -m hub.serving.schema_doc
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql

from hub.db import models as core
from hub.serving import models as serving

#: Each table the pipeline reads or writes, and where its rows come from.
TABLES: tuple[tuple[Any, str], ...] = (
    (core.Station, "fleet file (`pipeline.seed_fleet`) at start; created when telemetry names one"),
    (core.Compressor, "fleet file at start; created when telemetry names one"),
    (serving.CompressorStatus, "gold `compressor_health`, every micro-batch"),
    (serving.HourlyAggregate, "gold `hourly_aggregates`, every micro-batch"),
    (serving.DailyAggregate, "gold `daily_aggregates`, every micro-batch"),
    (serving.RecentMinute, "gold `features_1m`, the last `serving_recent_window_min` minutes"),
    (serving.AlertEpisode, "gold `alert_episodes` (detection columns); the portal (workflow)"),
    (serving.AlertEvent, "the serving sync: opened / escalated / closed / reopened / superseded"),
    (serving.Prediction, "gold `model_scores`"),
    (serving.StationFreshness, "gold `station_freshness`, every micro-batch"),
    (serving.DataQualityHour, "gold `data_quality_hourly`, every micro-batch"),
    (serving.ModelVersion, "the model registry (model training and rollout), not the pipeline"),
    (serving.ModelDeployment, "station status reports and rollouts, not the pipeline"),
    (serving.MaintenanceEvent, "operators (portal) or a CMMS, not the pipeline"),
)


def _type(column: Any) -> str:
    """The column's type as PostgreSQL spells it (SQLite stores the same values)."""
    return str(column.type.compile(dialect=postgresql.dialect())).lower()


def serving_markdown() -> str:
    lines: list[str] = []
    for model, source in TABLES:
        table = model.__table__
        doc = " ".join((model.__doc__ or "").split())
        keys = ", ".join(c.name for c in table.primary_key.columns)
        lines.append(f"### `{table.name}`\n")
        if doc:
            lines.append(f"{doc}\n")
        lines.append(f"Primary key: {keys}. Rows from: {source}.\n")
        columns = ", ".join(
            f"`{c.name}` {_type(c)}{'' if c.nullable or c.primary_key else ' not null'}"
            for c in table.columns
        )
        lines.append(f"Columns: {columns}.\n")
    return "\n".join(lines)


if __name__ == "__main__":
    print(serving_markdown())
