"""Fleet: stations, compressors, MQTT credentials (API and settings page)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from hub.portal.alerts.service import summaries_for_compressor as alert_summaries
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession, Principal
from hub.portal.auth.permissions import StationManager, Viewer
from hub.portal.billing.dependencies import feature_required
from hub.portal.billing.gates import standing
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.fleet import edge, overview, service, telemetry
from hub.portal.fleet.gauges import gauges
from hub.portal.fleet.schemas import (
    CompressorDetail,
    CompressorPage,
    CompressorRead,
    FleetOverview,
    PredictionsRead,
    SeriesRead,
    StationCreate,
    StationCredentialIssued,
    StationCredentialRead,
    StationPage,
    StationRead,
    StationUpdate,
)
from hub.portal.fleet.sensors import SENSORS
from hub.portal.fleet.telemetry import RANGES
from hub.portal.pages import page
from hub.portal.pagination import PageParams, make_page, page_params
from hub.portal.tenancy import CompressorIdPath, OrgScope, StationIdPath
from shared.ids import ID_PATTERN

api = APIRouter(tags=["fleet"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)

Params = Annotated[PageParams, Depends(page_params)]
StationFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]


RangeName = Annotated[str, Query(pattern="^(1h|24h|7d|30d)$")]


@api.get("/orgs/{org_id}/fleet", response_model=FleetOverview, summary="Fleet overview")
def fleet(session: DbSession, scope: Viewer) -> FleetOverview:
    """Stations with their health and the fleet's counts of critical, warning and stale units."""
    return overview.fleet_overview(session=session, org_id=scope.org_id)


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
def get_station(session: DbSession, scope: Viewer, station_id: StationIdPath) -> StationRead:
    return StationRead.model_validate(
        service.get_station(session=session, org_id=scope.org_id, station_id=station_id)
    )


@api.patch("/orgs/{org_id}/stations/{station_id}", response_model=StationRead)
def update_station(
    session: DbSession, scope: StationManager, station_id: StationIdPath, body: StationUpdate
) -> StationRead:
    station = service.update_station(session=session, scope=scope, station_id=station_id, data=body)
    return StationRead.model_validate(station)


@api.delete("/orgs/{org_id}/stations/{station_id}", status_code=204)
def delete_station(
    session: DbSession, scope: StationManager, station_id: StationIdPath
) -> Response:
    service.delete_station(session=session, scope=scope, station_id=station_id)
    return Response(status_code=204)


@api.get(
    "/orgs/{org_id}/stations/{station_id}/mqtt-credentials", response_model=StationCredentialRead
)
def get_credentials(
    session: DbSession, scope: StationManager, station_id: StationIdPath
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
    session: DbSession, scope: StationManager, station_id: StationIdPath
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


@api.get("/orgs/{org_id}/stations/{station_id}/edge", response_model=edge.StationEdgeRead)
def station_edge(
    session: DbSession, scope: Viewer, station_id: StationIdPath
) -> edge.StationEdgeRead:
    """The station's edge agent as it last reported (link, backlog, model) and its recent alarms."""
    service.get_station(session=session, org_id=scope.org_id, station_id=station_id)
    return edge.station_edge(session=session, org_id=scope.org_id, station_id=station_id)


@api.get("/orgs/{org_id}/stations/{station_id}/compressors", response_model=list[CompressorDetail])
def station_compressors(
    session: DbSession, scope: Viewer, station_id: StationIdPath
) -> list[CompressorDetail]:
    return overview.station_units(session=session, org_id=scope.org_id, station_id=station_id)


@api.get("/orgs/{org_id}/compressors/{compressor_id}", response_model=CompressorDetail)
def get_compressor(
    session: DbSession, scope: Viewer, compressor_id: CompressorIdPath
) -> CompressorDetail:
    return overview.compressor_detail(
        session=session, org_id=scope.org_id, compressor_id=compressor_id
    )


@api.get("/orgs/{org_id}/compressors/{compressor_id}/series", response_model=SeriesRead)
def compressor_series(
    session: DbSession, scope: Viewer, compressor_id: CompressorIdPath, range: RangeName = "24h"
) -> SeriesRead:
    """Mean, min and max per bucket of the six sensors, with their alarm thresholds."""
    data = overview.compressor_series(
        session=session, org_id=scope.org_id, compressor_id=compressor_id, range_name=range
    )
    # Built from typed rows already: skip a second validation of ~13,000 numbers (30 d).
    return JSONResponse(data.model_dump(mode="json"))  # type: ignore[return-value]


@api.get(
    "/orgs/{org_id}/compressors/{compressor_id}/predictions",
    response_model=PredictionsRead,
    dependencies=[feature_required("ml")],
)
def compressor_predictions(
    session: DbSession, scope: Viewer, compressor_id: CompressorIdPath
) -> PredictionsRead:
    """Anomaly score, discharge-temperature drift forecast and remaining useful life."""
    return overview.compressor_predictions(
        session=session, org_id=scope.org_id, compressor_id=compressor_id
    )


@api.get("/orgs/{org_id}/compressors", response_model=CompressorPage)
def list_compressors(
    session: DbSession, scope: Viewer, params: Params, station_id: StationFilter = None
) -> dict[str, object]:
    rows = service.list_compressors(session=session, org_id=scope.org_id, station_id=station_id)
    window = rows[params.offset : params.offset + params.limit]
    return make_page([CompressorRead.model_validate(c) for c in window], len(rows), params)


# -- pages -----------------------------------------------------------------------------


@pages.get("/o/{org_id}/fleet")
def fleet_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    data = overview.fleet_overview(session=session, org_id=scope.org_id)
    attention = telemetry.attention(session=session, org_id=scope.org_id)
    return page(
        request, "fleet/overview.html", session=session, scope=scope, principal=found,
        nav="fleet", fleet=data, attention=attention,
        watch=telemetry.model_watch(session=session, org_id=scope.org_id),
        models=overview.model_states(session=session, org_id=scope.org_id),
        stations_json=[s.model_dump(mode="json") for s in data.stations],
    )  # fmt: skip


@pages.get("/o/{org_id}/stations/{station_id}")
def station_page(
    request: Request,
    session: DbSession,
    scope: Viewer,
    found: CurrentPrincipal,
    station_id: StationIdPath,
) -> Response:
    station = service.get_station(session=session, org_id=scope.org_id, station_id=station_id)
    units = overview.station_units(session=session, org_id=scope.org_id, station_id=station_id)
    on_site = edge.station_edge(session=session, org_id=scope.org_id, station_id=station_id)
    return page(
        request, "fleet/station.html", session=session, scope=scope, principal=found,
        nav="fleet", station=station, units=units, edge=on_site,
        models=overview.model_states(session=session, org_id=scope.org_id),
    )  # fmt: skip


@pages.get("/o/{org_id}/compressors/{compressor_id}")
def compressor_page(
    request: Request,
    session: DbSession,
    scope: Viewer,
    found: CurrentPrincipal,
    compressor_id: CompressorIdPath,
    range: RangeName = "24h",
) -> Response:
    detail = overview.compressor_detail(
        session=session, org_id=scope.org_id, compressor_id=compressor_id
    )
    station = service.get_station(
        session=session, org_id=scope.org_id, station_id=detail.station_id
    )
    predictions = None
    if standing(session=session, org_id=scope.org_id).plan.includes("ml"):
        predictions = overview.compressor_predictions(
            session=session, org_id=scope.org_id, compressor_id=compressor_id
        )
    return page(
        request, "fleet/compressor.html", session=session, scope=scope, principal=found,
        nav="fleet", unit=detail, station=station, predictions=predictions, range=range,
        ranges=list(RANGES), sensors=SENSORS, gauges=gauges(detail.status.values),
        alerts=alert_summaries(session=session, org_id=scope.org_id, compressor_id=compressor_id),
    )  # fmt: skip


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
    station_id: StationIdPath,
) -> Response:
    credential, password = service.rotate_credential(
        session=session, scope=scope, station_id=station_id
    )
    issued = {"station_id": station_id, "username": credential.username, "password": password}
    return _stations_page(request, session, scope, found, issued=issued)


@pages.post("/o/{org_id}/settings/stations/{station_id}/delete")
def stations_delete(
    session: DbSession, scope: StationManager, station_id: StationIdPath
) -> Response:
    service.delete_station(session=session, scope=scope, station_id=station_id)
    return RedirectResponse(f"/o/{scope.org_id}/settings/stations", status_code=303)
