from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class StationModelRead(BaseModel):
    station_id: str
    station_name: str
    model_id: str | None
    #: The version the station reports running.
    running_version: str | None
    #: The version offered to it (rollout target), if any.
    offered_version: str | None
    #: e.g. canary, offered, shadow, promoted, rolled_back.
    rollout_state: str | None
    reported_at: datetime | None


class ModelVersionRead(BaseModel):
    model_id: str
    version: str
    created_at: datetime | None
    status: str | None
    metrics: dict[str, float]
