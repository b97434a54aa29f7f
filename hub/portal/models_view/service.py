"""Model versions per station and their rollout state (hub.serving's model tables)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.portal.fleet import service as fleet
from hub.portal.models_view.schemas import ModelVersionRead, StationModelRead
from hub.serving.models import ModelDeployment, ModelVersion


def station_models(*, session: Session, org_id: str) -> list[StationModelRead]:
    names = {s.id: s.name for s in fleet.list_stations(session=session, org_id=org_id)}
    deployments = session.scalars(
        select(ModelDeployment)
        .where(ModelDeployment.org_id == org_id)
        .order_by(ModelDeployment.station_id, ModelDeployment.model_id)
    ).all()
    rows = [
        StationModelRead(
            station_id=d.station_id, station_name=names.get(d.station_id, d.station_id),
            model_id=d.model_id, running_version=d.running_version,
            offered_version=d.offered_version, rollout_state=d.rollout_state,
            reported_at=d.reported_at,
        )
        for d in deployments
    ]  # fmt: skip
    deployed = {d.station_id for d in deployments}
    rows += [
        StationModelRead(
            station_id=sid, station_name=name, model_id=None, running_version=None,
            offered_version=None, rollout_state=None, reported_at=None,
        )
        for sid, name in names.items()
        if sid not in deployed
    ]  # fmt: skip
    return rows


def model_versions(*, session: Session, org_id: str) -> list[ModelVersionRead]:
    versions = session.scalars(
        select(ModelVersion)
        .where(ModelVersion.org_id == org_id)
        .order_by(ModelVersion.model_id, ModelVersion.created_at.desc())
    ).all()
    return [
        ModelVersionRead(
            model_id=v.model_id, version=v.version, created_at=v.created_at, status=v.status,
            metrics={k: float(m) for k, m in (v.metrics or {}).items()
                     if isinstance(m, int | float) and not isinstance(m, bool)},
        )
        for v in versions
    ]  # fmt: skip
