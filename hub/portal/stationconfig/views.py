"""Pages: every station's configuration (desired vs reported) and one station's editor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.audit import service as audit
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import StationManager, Viewer
from hub.portal.fleet import service as fleet
from hub.portal.pages import page
from hub.portal.tenancy import OrgScope, StationIdPath
from hub.stationconfig import service
from hub.stationconfig.errors import StationConfigHubError

pages = APIRouter(include_in_schema=False)
#: No JSON API yet: the pages are the product surface (and the CLI for scripts).
api = APIRouter()

ConfigText = Annotated[str, Form(max_length=60_000)]


@pages.get("/o/{org_id}/station-config")
def overview_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return page(
        request, "stationconfig/index.html", session=session, scope=scope, principal=found,
        nav="station-config", rows=service.overview(session=session, org_id=scope.org_id),
    )  # fmt: skip


def _station_page(
    request: Request, session: DbSession, scope: OrgScope, found: CurrentPrincipal,
    station_id: str, *, text: str | None = None, diff: list[str] | None = None,
    error: str | None = None,
) -> Response:  # fmt: skip
    station = fleet.get_station(session=session, org_id=scope.org_id, station_id=station_id)
    wanted = service.latest(session=session, org_id=scope.org_id, station_id=station_id)
    desired = service.sections_yaml(service.desired_sections(wanted))
    return page(
        request, "stationconfig/station.html", session=session, scope=scope, principal=found,
        nav="station-config", station=station, desired=wanted, desired_text=desired,
        said=service.report(session=session, org_id=scope.org_id, station_id=station_id),
        text=desired if text is None else text, diff=diff, error=error,
        status=400 if error else 200,
    )  # fmt: skip


@pages.get("/o/{org_id}/station-config/{station_id}")
def station_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal,
    station_id: StationIdPath,
) -> Response:  # fmt: skip
    return _station_page(request, session, scope, found, station_id)


@pages.post("/o/{org_id}/station-config/{station_id}/preview")
def preview(
    request: Request, session: DbSession, scope: StationManager, found: CurrentPrincipal,
    station_id: StationIdPath, text: ConfigText,
) -> Response:  # fmt: skip
    try:
        sections = service.parse_sections(text)
    except StationConfigHubError as exc:
        return _station_page(request, session, scope, found, station_id, text=text, error=str(exc))
    wanted = service.latest(session=session, org_id=scope.org_id, station_id=station_id)
    lines = service.diff(old=service.desired_sections(wanted), new=sections)
    return _station_page(request, session, scope, found, station_id, text=text, diff=lines)


@pages.post("/o/{org_id}/station-config/{station_id}/push")
def push(
    request: Request, session: DbSession, scope: StationManager, found: CurrentPrincipal,
    station_id: StationIdPath, text: ConfigText,
) -> Response:  # fmt: skip
    from hub.models_lifecycle.keys import signing_key
    from hub.stationconfig import link

    settings = request.app.state.settings
    try:
        sections = service.parse_sections(text)
        savepoint = session.begin_nested()  # a failed publish stores nothing as desired
        signed = service.prepare(
            session=session, org_id=scope.org_id, station_id=station_id, sections=sections,
            issued_by=found.user.email, signing_key=signing_key(
                settings.models, development=settings.development
            ),
        )  # fmt: skip
        try:
            link.publish(settings.mqtt, signed, timeout_s=5)
        except StationConfigHubError:
            savepoint.rollback()
            raise
        savepoint.commit()
    except StationConfigHubError as exc:
        return _station_page(request, session, scope, found, station_id, text=text, error=str(exc))
    audit.record(
        session=session, action="station.config.push", org_id=scope.org_id,
        actor_user_id=found.user.id, actor_email=found.user.email, target=station_id,
        detail={"version": signed.document.version, "sections": sorted(sections)},
    )  # fmt: skip
    return RedirectResponse(f"/o/{scope.org_id}/station-config/{station_id}", status_code=303)
