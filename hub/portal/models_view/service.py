"""Model versions per station and their rollout state (serving tables)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from hub.portal.fleet import service as fleet
from hub.portal.models_view.schemas import ModelVersionRead, StationModelRead


def station_models(*, session: Session, org_id: str) -> list[StationModelRead]:
    return [
        StationModelRead(
            station_id=s.id, station_name=s.name, model_id=None, running_version=None,
            offered_version=None, rollout_state=None, reported_at=None,
        )
        for s in fleet.list_stations(session=session, org_id=org_id)
    ]  # fmt: skip


def model_versions(*, session: Session, org_id: str) -> list[ModelVersionRead]:
    return []
