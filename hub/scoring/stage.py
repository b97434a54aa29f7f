"""The scoring stage as the lakehouse pipeline calls it, once per micro-batch and org.

    stage = ScoringStage(serving_engine, settings.models.artifact_dir, interval_s=60.0)
    champions = stage.champions(org_id)          # also records each model's state in serving
    partials = stage.partials(silver, champions, since=since)       # one ONNX pass; cache it
    minutes = stage.minute_scores(partials, champions, since=since)  # gold model_scores rows
    hours = stage.model_hours(partials, champions)                   # gold model_hours rows
    scores = stage.hour_scores(hours_history, champions, since=since)  # gold model_scores rows

`silver`: silver readings of the org's touched compressors from `silver_start(since, ...)`;
`hours_history`: the stored hourly model view of the touched stations over
`history_days(...)` before `since` (None: from each unit's first stored hour), plus the
hours just computed. A step whose model is
not registered or was refused returns None: the pipeline writes nothing for it and goes on.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
from pyspark.sql import DataFrame
from sqlalchemy import Engine

from hub.db.session import session_scope
from hub.models_lifecycle.registry import ModelRegistry
from hub.scoring import spark as steps
from hub.scoring.champions import ChampionLoader, Champions
from hub.scoring.service import record_states

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey


class ScoringStage:
    def __init__(
        self,
        engine: Engine,
        artifact_dir: Path,
        *,
        interval_s: float,
        public_key: Ed25519PublicKey | None = None,
    ) -> None:
        self.engine = engine
        self.artifact_dir = artifact_dir
        self.interval_s = interval_s
        self.public_key = public_key
        self._loaders: dict[str, ChampionLoader] = {}

    def champions(self, org_id: str) -> Champions:
        """The org's champions now; each model's state (active / not registered / refused) recorded."""
        loader = self._loaders.get(org_id)
        if loader is None:
            registry = ModelRegistry(self.engine, self.artifact_dir, org_id=org_id)
            loader = self._loaders[org_id] = ChampionLoader(registry, public_key=self.public_key)
        champions = loader.current()
        with session_scope(self.engine, org_id=org_id) as session:
            record_states(session=session, org_id=org_id, states=champions.states)
        return champions

    def silver_start(self, champions: Champions, since: datetime) -> pd.Timestamp | None:
        """Earliest silver reading time the minute and hour steps need (None: no detector)."""
        if champions.anomaly is None:
            return None
        return steps.silver_start(since, champions.anomaly)

    def history_days(self, champions: Champions) -> float | None:
        return steps.history_days(champions.rul, champions.drift)

    def partials(
        self, silver: DataFrame, champions: Champions, *, since: datetime
    ) -> DataFrame | None:
        """Per compressor-minute partials from `since`'s hour: features and ONNX, once."""
        if champions.anomaly is None:
            return None
        return steps.score_partials(silver, champions.anomaly, since=since)

    def minute_scores(
        self, partials: DataFrame | None, champions: Champions, *, since: datetime
    ) -> DataFrame | None:
        if champions.anomaly is None or partials is None:
            return None
        return steps.minutes_from_partials(partials, champions.anomaly, since=since)

    def model_hours(self, partials: DataFrame | None, champions: Champions) -> DataFrame | None:
        if champions.anomaly is None or partials is None:
            return None
        return steps.hours_from_partials(partials, interval_s=self.interval_s)

    def hour_scores(
        self, hours: DataFrame, champions: Champions, *, since: datetime
    ) -> DataFrame | None:
        if champions.rul is None and champions.drift is None:
            return None
        return steps.score_hours(hours, rul=champions.rul, drift=champions.drift, since=since)
