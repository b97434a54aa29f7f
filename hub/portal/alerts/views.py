"""The alert queue: filter, acknowledge, resolve with a note, history (API and pages)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.alerts import service
from hub.portal.alerts.schemas import (
    AcknowledgeBody,
    AlertDetail,
    AlertPage,
    AlertState,
    ResolveBody,
    Severity,
)
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import AlertWorker, Viewer
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.pages import page
from hub.portal.pagination import PageParams, make_page, page_params
from hub.portal.tenancy import AlertIdPath
from shared.ids import ID_PATTERN

api = APIRouter(tags=["alerts"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)

Params = Annotated[PageParams, Depends(page_params)]
IdFilter = Annotated[str | None, Query(pattern=ID_PATTERN, max_length=64)]


@api.get("/orgs/{org_id}/alerts", response_model=AlertPage)
def list_alerts(
    session: DbSession,
    scope: Viewer,
    params: Params,
    state: AlertState | None = None,
    severity: Severity | None = None,
    station_id: IdFilter = None,
    compressor_id: IdFilter = None,
) -> dict[str, object]:
    rows, total = service.list_alerts(
        session=session, org_id=scope.org_id, params=params, state=state, severity=severity,
        station_id=station_id, compressor_id=compressor_id,
    )  # fmt: skip
    return make_page(rows, total, params)


@api.get("/orgs/{org_id}/alerts/{alert_id}", response_model=AlertDetail)
def get_alert(session: DbSession, scope: Viewer, alert_id: AlertIdPath) -> AlertDetail:
    return service.get_detail(session=session, org_id=scope.org_id, alert_id=alert_id)


@api.post("/orgs/{org_id}/alerts/{alert_id}/acknowledge", response_model=AlertDetail)
def acknowledge(
    session: DbSession, scope: AlertWorker, alert_id: AlertIdPath, body: AcknowledgeBody
) -> AlertDetail:
    service.acknowledge(session=session, scope=scope, alert_id=alert_id, note=body.note)
    return service.get_detail(session=session, org_id=scope.org_id, alert_id=alert_id)


@api.post("/orgs/{org_id}/alerts/{alert_id}/resolve", response_model=AlertDetail)
def resolve(
    session: DbSession, scope: AlertWorker, alert_id: AlertIdPath, body: ResolveBody
) -> AlertDetail:
    service.resolve(session=session, scope=scope, alert_id=alert_id, note=body.note)
    return service.get_detail(session=session, org_id=scope.org_id, alert_id=alert_id)


# -- pages ------------------------------------------------------------------------------


@pages.get("/o/{org_id}/alerts")
def queue_page(
    request: Request,
    session: DbSession,
    scope: Viewer,
    found: CurrentPrincipal,
    params: Params,
    state: AlertState | None = None,
    severity: Severity | None = None,
    station_id: IdFilter = None,
) -> Response:
    rows, total = service.list_alerts(
        session=session, org_id=scope.org_id, params=params, state=state, severity=severity,
        station_id=station_id, compressor_id=None,
    )  # fmt: skip
    from hub.portal.fleet import service as fleet

    return page(
        request, "alerts/queue.html", session=session, scope=scope, principal=found,
        nav="alerts", alerts=rows, total=total, params=params,
        filters={"state": state, "severity": severity, "station_id": station_id},
        stations=fleet.list_stations(session=session, org_id=scope.org_id),
    )  # fmt: skip


@pages.get("/o/{org_id}/alerts/{alert_id}")
def alert_page(
    request: Request,
    session: DbSession,
    scope: Viewer,
    found: CurrentPrincipal,
    alert_id: AlertIdPath,
) -> Response:
    from hub.portal.workflows.service import members

    detail = service.get_detail(session=session, org_id=scope.org_id, alert_id=alert_id)
    return page(
        request, "alerts/detail.html", session=session, scope=scope, principal=found,
        nav="alerts", alert=detail, members=members(session=session, org_id=scope.org_id),
    )  # fmt: skip


@pages.post("/o/{org_id}/alerts/{alert_id}/acknowledge")
def acknowledge_form(
    session: DbSession,
    scope: AlertWorker,
    alert_id: AlertIdPath,
    note: Annotated[str, Form(max_length=2000)] = "",
) -> Response:
    service.acknowledge(session=session, scope=scope, alert_id=alert_id, note=note or None)
    return RedirectResponse(f"/o/{scope.org_id}/alerts/{alert_id}", status_code=303)


@pages.post("/o/{org_id}/alerts/{alert_id}/resolve")
def resolve_form(
    session: DbSession,
    scope: AlertWorker,
    alert_id: AlertIdPath,
    note: Annotated[str, Form(min_length=1, max_length=2000)],
) -> Response:
    service.resolve(session=session, scope=scope, alert_id=alert_id, note=note)
    return RedirectResponse(f"/o/{scope.org_id}/alerts/{alert_id}", status_code=303)
