"""What a silver/gold micro-batch hands to whoever mirrors gold (the serving database)."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import DataFrame


@dataclass
class BatchOutput:
    """The gold rows a micro-batch wrote (each a small, materialized DataFrame)."""

    batch_id: int
    readings: int = 0
    seconds: float = 0.0
    #: Wall seconds of each step (silver, features, ..., serving); steps a small batch runs
    #: side by side overlap, so they may add up to more than the batch's `seconds`.
    steps: dict[str, float] = field(default_factory=dict)
    #: Silver rows the batch inserted or re-flagged (for a recent-readings window).
    silver_changes: DataFrame | None = None
    hourly: DataFrame | None = None
    daily: DataFrame | None = None
    episodes: DataFrame | None = None
    #: Episode keys (compressor, condition, first_seen_at) that no longer exist.
    episodes_removed: DataFrame | None = None
    health: DataFrame | None = None
    #: Model scores (gold model_scores): the physics health score per compressor-hour.
    scores: DataFrame | None = None
    #: The champion models' scores (also in gold model_scores); joined to `scores` at the end.
    model_scores: DataFrame | None = None
    freshness: DataFrame | None = None
    data_quality: DataFrame | None = None
    #: The last `recent_window_min` minutes of features per compressor.
    recent_minutes: DataFrame | None = None
    orgs: list[str] = field(default_factory=list)
    compressors: list[tuple[str, str, str]] = field(default_factory=list)
