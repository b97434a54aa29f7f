"""Organisations, stations and compressors in the serving database: from the fleet file,
and minimal rows for assets that report before anyone described them."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine

from hub.db.models import Compressor, Organization, Station
from hub.db.session import session_scope
from hub.serving.upsert import insert_missing, upsert
from shared.fleet import Fleet

AssetKey = tuple[str, str, str]  # org, station, compressor


def seed_fleet(engine: Engine, fleet: Fleet) -> int:
    """Upsert every organisation, station and compressor of the fleet file (one org at a time)."""
    count = 0
    for organisation in fleet.organisations:
        with session_scope(engine, org_id=organisation.id) as session:
            upsert(
                session,
                Organization.__table__,  # type: ignore[arg-type]
                [{"id": organisation.id, "name": organisation.name}],
                update=["name"],
            )
            stations = [
                {
                    "org_id": organisation.id,
                    "id": s.id,
                    "name": s.name,
                    "basin": s.basin,
                    "latitude": s.latitude,
                    "longitude": s.longitude,
                }
                for s in organisation.stations
            ]
            upsert(session, Station.__table__, stations)  # type: ignore[arg-type]
            compressors = [
                {
                    "org_id": organisation.id,
                    "id": c.id,
                    "station_id": s.id,
                    "model": f"{c.make} {c.model}",
                    "driver": f"{c.driver.make} {c.driver.model}",
                    "rated_hp": c.rated_hp,
                    "stages": c.stages,
                }
                for s in organisation.stations
                for c in s.compressors
            ]
            upsert(session, Compressor.__table__, compressors)  # type: ignore[arg-type]
            count += len(compressors)
    return count


def ensure_assets(session, org_id: str, assets: Iterable[AssetKey]) -> None:  # type: ignore[no-untyped-def]
    """Rows for an org's stations and compressors that telemetry names but nobody seeded.

    The ingest verified that each station belongs to its org; the names are the ids
    until someone (the fleet file, the portal) describes them. A unit is registered
    whatever its org's plan allows, so its data is never dropped: the portal decides what
    it shows (hub/portal/billing/gates.py, compressors beyond the plan's limit).
    """
    listed = sorted({a for a in assets if a[0] == org_id})
    if not listed:
        return
    insert_missing(session, Organization.__table__, [{"id": org_id, "name": org_id}])  # type: ignore[arg-type]
    stations = sorted({(org, station) for org, station, _ in listed})
    insert_missing(
        session,
        Station.__table__,  # type: ignore[arg-type]
        [{"org_id": org, "id": station, "name": station} for org, station in stations],
    )
    insert_missing(
        session,
        Compressor.__table__,  # type: ignore[arg-type]
        [{"org_id": org, "id": c, "station_id": station} for org, station, c in listed],
    )
