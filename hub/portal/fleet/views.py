"""Fleet: stations, compressors, MQTT credentials (API and settings page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.auth.dependencies import CurrentPrincipal, DbSession, Principal
from hub.portal.auth.permissions import StationManager, Viewer
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.fleet import service
from hub.portal.fleet.schemas import (
    CompressorPage,
    CompressorRead,
    StationCreate,
    StationCredentialIssued,
    StationCredentialRead,
    StationPage,
    StationRead,
    StationUpdate,
)
from hub.portal.pages import page
from hub.portal.pagination import PageParams, make_page, page_params
from hub.portal.tenancy import OrgScope
from shared.ids import ID_PATTERN

api = APIRouter(tags=["fleet"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)

Params = Annotated[PageParams, Depends(page_params)]
StationFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]


@api.get("/orgs/{org_id}/stations", response_model=StationPage)
def list_stations(session: DbSession, scope: Viewer, params: Params) -> dict[str, object]:
    rows = service.list_stations(session=session, org_id=scope.org_id)
    window = rows[params.offset : params.offset + params.limit]
    return make_page([StationRead.model_validate(s) for s in window], len(rows), params)


@api.post("/orgs/{org_id}/stations", response_model=StationRead, status_code=201)
def create_station(session: DbSession, scope: StationManager, body: StationCreate) -> StationRead:
    return StationRead.model_validate(
        service.create_station(session=session, scope=scope, data=body)
    )


@api.get("/orgs/{org_id}/stations/{station_id}", response_model=StationRead)
def get_station(session: DbSession, scope: Viewer, station_id: str) -> StationRead:
    return StationRead.model_validate(
        service.get_station(session=session, org_id=scope.org_id, station_id=station_id)
    )


@api.patch("/orgs/{org_id}/stations/{station_id}", response_model=StationRead)
def update_station(
    session: DbSession, scope: StationManager, station_id: str, body: StationUpdate
) -> StationRead:
    station = service.update_station(session=session, scope=scope, station_id=station_id, data=body)
    return StationRead.model_validate(station)


@api.delete("/orgs/{org_id}/stations/{station_id}", status_code=204)
def delete_station(session: DbSession, scope: StationManager, station_id: str) -> Response:
    service.delete_station(session=session, scope=scope, station_id=station_id)
    return Response(status_code=204)


@api.get(
    "/orgs/{org_id}/stations/{station_id}/mqtt-credentials", response_model=StationCredentialRead
)
def get_credentials(
    session: DbSession, scope: StationManager, station_id: str
) -> StationCredentialRead:
    credential = service.get_credential(session=session, org_id=scope.org_id, station_id=station_id)
    return StationCredentialRead(
        username=credential.username,
        topic_prefix=service.credential_topic_prefix(credential),
        rotated_at=credential.rotated_at,
    )


@api.post(
    "/orgs/{org_id}/stations/{station_id}/mqtt-credentials",
    response_model=StationCredentialIssued,
    status_code=201,
)
def rotate_credentials(
    session: DbSession, scope: StationManager, station_id: str
) -> StationCredentialIssued:
    credential, password = service.rotate_credential(
        session=session, scope=scope, station_id=station_id
    )
    return StationCredentialIssued(
        username=credential.username,
        topic_prefix=service.credential_topic_prefix(credential),
        rotated_at=credential.rotated_at,
        password=password,
    )


@api.get("/orgs/{org_id}/compressors", response_model=CompressorPage)
def list_compressors(
    session: DbSession, scope: Viewer, params: Params, station_id: StationFilter = None
) -> dict[str, object]:
    rows = service.list_compressors(session=session, org_id=scope.org_id, station_id=station_id)
    window = rows[params.offset : params.offset + params.limit]
    return make_page([CompressorRead.model_validate(c) for c in window], len(rows), params)


# -- settings page ---------------------------------------------------------------------


def _stations_page(
    request: Request, session: DbSession, scope: OrgScope, found: Principal, **extra: object
) -> Response:
    stations = service.list_stations(session=session, org_id=scope.org_id)
    credentials = {
        s.id: service.credential_or_none(session=session, org_id=scope.org_id, station_id=s.id)
        for s in stations
    }
    return page(
        request, "settings/stations.html", session=session, scope=scope, principal=found,
        nav="settings", tab="stations", stations=stations, credentials=credentials, **extra,
    )  # fmt: skip


@pages.get("/o/{org_id}/settings/stations")
def stations_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return _stations_page(request, session, scope, found)


@pages.post("/o/{org_id}/settings/stations")
def stations_create(
    session: DbSession,
    scope: StationManager,
    station_id: Annotated[str, Form(pattern=ID_PATTERN, max_length=64)],
    name: Annotated[str, Form(min_length=1, max_length=200)],
    basin: Annotated[str, Form(max_length=100)] = "",
    latitude: Annotated[float | None, Form(ge=-90, le=90)] = None,
    longitude: Annotated[float | None, Form(ge=-180, le=180)] = None,
) -> Response:
    data = StationCreate(
        id=station_id, name=name, basin=basin or None, latitude=latitude, longitude=longitude
    )
    service.create_station(session=session, scope=scope, data=data)
    return RedirectResponse(f"/o/{scope.org_id}/settings/stations", status_code=303)


@pages.post("/o/{org_id}/settings/stations/{station_id}/credentials")
def stations_rotate(
    request: Request,
    session: DbSession,
    scope: StationManager,
    found: CurrentPrincipal,
    station_id: str,
) -> Response:
    credential, password = service.rotate_credential(
        session=session, scope=scope, station_id=station_id
    )
    issued = {"station_id": station_id, "username": credential.username, "password": password}
    return _stations_page(request, session, scope, found, issued=issued)


@pages.post("/o/{org_id}/settings/stations/{station_id}/delete")
def stations_delete(session: DbSession, scope: StationManager, station_id: str) -> Response:
    service.delete_station(session=session, scope=scope, station_id=station_id)
    return RedirectResponse(f"/o/{scope.org_id}/settings/stations", status_code=303)
