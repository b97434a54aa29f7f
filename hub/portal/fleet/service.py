"""Stations, compressors and station MQTT credentials (management side of the fleet)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.db.models import Compressor, Station
from hub.portal.audit import service as audit
from hub.portal.billing import gates
from hub.portal.errors import Conflict, NotFound
from hub.portal.fleet.credentials import mosquitto_hash, topic_prefix, username_for
from hub.portal.fleet.models import StationCredential
from hub.portal.fleet.schemas import StationCreate, StationUpdate
from hub.portal.security import new_secret
from hub.portal.tenancy import OrgScope


def list_stations(*, session: Session, org_id: str) -> list[Station]:
    return list(
        session.scalars(select(Station).where(Station.org_id == org_id).order_by(Station.id)).all()
    )


def get_station(*, session: Session, org_id: str, station_id: str) -> Station:
    station = session.get(Station, (org_id, station_id))
    if station is None:
        raise NotFound("No such station.")
    return station


def create_station(*, session: Session, scope: OrgScope, data: StationCreate) -> Station:
    gates.require_within(session=session, org_id=scope.org_id, what="stations")
    if session.get(Station, (scope.org_id, data.id)) is not None:
        raise Conflict("A station with that id exists.")
    station = Station(org_id=scope.org_id, **data.model_dump())
    session.add(station)
    audit.record(
        session=session, action="station.created", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=data.id,
    )  # fmt: skip
    session.flush()
    return station


def update_station(
    *, session: Session, scope: OrgScope, station_id: str, data: StationUpdate
) -> Station:
    station = get_station(session=session, org_id=scope.org_id, station_id=station_id)
    gates.require_station_writable(session=session, org_id=scope.org_id, station_id=station_id)
    changes = data.model_dump(exclude_unset=True)
    for key, value in changes.items():
        if key == "name" and value is None:
            continue
        setattr(station, key, value)
    audit.record(
        session=session, action="station.updated", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=station_id, detail={"fields": sorted(changes)},
    )  # fmt: skip
    session.flush()
    return station


def delete_station(*, session: Session, scope: OrgScope, station_id: str) -> None:
    station = get_station(session=session, org_id=scope.org_id, station_id=station_id)
    session.delete(station)
    audit.record(
        session=session, action="station.deleted", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=station_id,
    )  # fmt: skip
    session.flush()


def _shown(session: Session, org_id: str) -> tuple[Any, ...]:
    """Compressors the plan shows (those beyond its limit, past their grace, are kept only)."""
    hidden = gates.hidden_compressors(session=session, org_id=org_id)
    return (Compressor.id.not_in(hidden),) if hidden else ()


def list_compressors(
    *, session: Session, org_id: str, station_id: str | None = None
) -> list[Compressor]:
    query = select(Compressor).where(Compressor.org_id == org_id, *_shown(session, org_id))
    if station_id is not None:
        query = query.where(Compressor.station_id == station_id)
    return list(session.scalars(query.order_by(Compressor.id)).all())


def compressor_counts(*, session: Session, org_id: str) -> dict[str, int]:
    rows = session.execute(
        select(Compressor.station_id, func.count())
        .where(Compressor.org_id == org_id, *_shown(session, org_id))
        .group_by(Compressor.station_id)
    ).all()
    return {station_id: int(n) for station_id, n in rows}


def get_compressor(*, session: Session, org_id: str, compressor_id: str) -> Compressor:
    """The compressor, 404 if missing, 402 if beyond the plan's limit (see gates)."""
    compressor = session.get(Compressor, (org_id, compressor_id))
    if compressor is None:
        raise NotFound("No such compressor.")
    gates.require_compressor_shown(session=session, org_id=org_id, compressor_id=compressor_id)
    return compressor


def get_credential(*, session: Session, org_id: str, station_id: str) -> StationCredential:
    get_station(session=session, org_id=org_id, station_id=station_id)
    credential = session.get(StationCredential, (org_id, station_id))
    if credential is None:
        raise NotFound("This station has no MQTT credentials yet.")
    return credential


def rotate_credential(
    *, session: Session, scope: OrgScope, station_id: str
) -> tuple[StationCredential, str]:
    """Issue a new password for the station's gateway (the old one stops working)."""
    get_station(session=session, org_id=scope.org_id, station_id=station_id)
    gates.require_station_writable(session=session, org_id=scope.org_id, station_id=station_id)
    password = new_secret(24)
    credential = session.get(StationCredential, (scope.org_id, station_id))
    if credential is None:
        credential = StationCredential(
            org_id=scope.org_id,
            station_id=station_id,
            username=username_for(scope.org_id, station_id),
            password_hash=mosquitto_hash(password),
        )
        session.add(credential)
    else:
        credential.password_hash = mosquitto_hash(password)
    credential.rotated_at = utc_now()
    audit.record(
        session=session, action="station.credentials_rotated", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=station_id,
    )  # fmt: skip
    session.flush()
    return credential, password


def credential_topic_prefix(credential: StationCredential) -> str:
    return topic_prefix(credential.org_id, credential.station_id)


def credential_or_none(
    *, session: Session, org_id: str, station_id: str
) -> StationCredential | None:
    return session.get(StationCredential, (org_id, station_id))
