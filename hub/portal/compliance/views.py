"""Compliance: API and pages (Subpart W year to date, PHMSA clocks, IM conditions, exports).

Gated to plans that include the `compliance` feature (hub.portal.billing.plans); a
station in the URL is looked up first, so another org's station is a 404 on any plan.
"""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from hub.compliance import exports
from hub.compliance import service as compliance
from hub.compliance.pdf import facility_pdf, incident_pdf
from hub.compliance.phmsa import IncidentEvent
from hub.compliance.report import as_json
from hub.compliance.schemas import StationProfile
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import AlertWorker, StationManager, Viewer
from hub.portal.compliance import service
from hub.portal.compliance.schemas import ConditionRead, ConditionWrite, StationComplianceRead
from hub.portal.errors import ERROR_RESPONSES, NotFound, PortalError
from hub.portal.pages import page
from hub.portal.tenancy import StationIdPath

api = APIRouter(tags=["compliance"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)

Year = Annotated[
    int | None, Query(ge=2000, le=2100, description="reporting year (default: this year, to date)")
]
Format = Annotated[
    Literal["csv", "pdf", "json", "xml"],
    Query(description="csv, pdf, or the e-GGRT layout as json / xml"),
]
RecordId = Annotated[str, Query(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
MEDIA = {
    "csv": "text/csv",
    "pdf": "application/pdf",
    "json": "application/json",
    "xml": "application/xml",
}


def _download(path: Path, kind: str) -> Response:
    return Response(path.read_bytes(), media_type=MEDIA[kind],
                    headers={"Content-Disposition": f'attachment; filename="{path.name}"'})  # fmt: skip


@api.get("/orgs/{org_id}/compliance", response_model=list[StationComplianceRead])
def overview(session: DbSession, scope: Viewer, year: Year = None) -> list[StationComplianceRead]:
    """Per station: Subpart W CO2e year to date, threshold status, open report clocks, conditions."""
    service.require_compliance(session=session, org_id=scope.org_id)
    return service.overview(session=session, org_id=scope.org_id, year=year)


@api.get("/orgs/{org_id}/compliance/stations/{station_id}/subpart-w")
def subpart_w(
    session: DbSession, scope: Viewer, station_id: StationIdPath, year: Year = None
) -> dict[str, Any]:
    """The station's Subpart W lines, totals, missing inputs and threshold (the calculator's JSON)."""
    service.station_or_404(session=session, org_id=scope.org_id, station_id=station_id)
    service.require_compliance(session=session, org_id=scope.org_id)
    return as_json(
        service.station_result(
            session=session, org_id=scope.org_id, station_id=station_id, year=year
        )
    )


@api.put("/orgs/{org_id}/compliance/stations/{station_id}/profile", response_model=StationProfile)
def put_profile(
    session: DbSession, scope: StationManager, station_id: StationIdPath, body: StationProfile
) -> StationProfile:
    """Segment, gas analysis, as-found measurements and devices: what telemetry cannot give."""
    service.station_or_404(session=session, org_id=scope.org_id, station_id=station_id)
    service.require_compliance(session=session, org_id=scope.org_id)
    service.put_profile(
        session=session,
        org_id=scope.org_id,
        station_id=station_id,
        profile=body,
        user=scope.user_id,
    )
    return body


@api.post("/orgs/{org_id}/compliance/incidents", status_code=201)
def screen(session: DbSession, scope: AlertWorker, body: IncidentEvent) -> dict[str, Any]:
    """Screen an event against 49 CFR 191.3 (criteria in force on its date) and keep it."""
    service.require_compliance(session=session, org_id=scope.org_id)
    return service.record_incident(
        session=session, org_id=scope.org_id, event=body, user=scope.user_id
    )


@api.put("/orgs/{org_id}/compliance/conditions", response_model=ConditionRead)
def put_condition(session: DbSession, scope: AlertWorker, body: ConditionWrite) -> ConditionRead:
    """Record or classify an integrity condition (192.933 category in force at discovery)."""
    service.require_compliance(session=session, org_id=scope.org_id)
    return service.record_condition(session=session, org_id=scope.org_id, body=body)


@pages.get("/o/{org_id}/compliance")
def compliance_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal, year: Year = None
) -> Response:
    service.require_compliance(session=session, org_id=scope.org_id)
    rows = service.overview(session=session, org_id=scope.org_id, year=year)
    return page(request, "compliance/index.html", session=session, scope=scope, principal=found, nav="compliance",
                rows=rows, year=service.period(year)[0])  # fmt: skip


@pages.get("/o/{org_id}/compliance/{station_id}")
def station_page(
    request: Request,
    session: DbSession,
    scope: Viewer,
    found: CurrentPrincipal,
    station_id: StationIdPath,
    year: Year = None,
) -> Response:
    station = service.station_or_404(session=session, org_id=scope.org_id, station_id=station_id)
    service.require_compliance(session=session, org_id=scope.org_id)
    try:
        result: dict[str, Any] | None = as_json(
            service.station_result(
                session=session, org_id=scope.org_id, station_id=station_id, year=year
            )
        )
        problem = None
    except PortalError as exc:  # shown on the page: not configured, or an input the rules refuse
        result, problem = None, exc.message
    incidents, conditions = service.station_events(
        session=session, org_id=scope.org_id, station_id=station_id
    )
    return page(request, "compliance/station.html", session=session, scope=scope, principal=found, nav="compliance",
                station=station, result=result, problem=problem, incidents=incidents, conditions=conditions,
                year=service.period(year)[0])  # fmt: skip


@pages.get("/o/{org_id}/compliance/{station_id}/subpart-w")
def subpart_w_export(
    session: DbSession,
    scope: Viewer,
    station_id: StationIdPath,
    format: Format = "csv",
    year: Year = None,
) -> Response:
    service.station_or_404(session=session, org_id=scope.org_id, station_id=station_id)
    service.require_compliance(session=session, org_id=scope.org_id)
    result = service.station_result(
        session=session, org_id=scope.org_id, station_id=station_id, year=year
    )
    writer = {
        "csv": exports.summary_csv,
        "pdf": facility_pdf,
        "json": exports.eggrt_json,
        "xml": exports.eggrt_xml,
    }[format]
    with tempfile.TemporaryDirectory() as tmp:
        return _download(writer(result, Path(tmp)), format)


@pages.get("/o/{org_id}/compliance-incident.pdf")
def incident_export(session: DbSession, scope: Viewer, id: RecordId) -> Response:
    service.require_compliance(session=session, org_id=scope.org_id)
    screening = compliance.get_incident(session=session, org_id=scope.org_id, incident_id=id)
    if screening is None:
        raise NotFound("No such screened incident.")
    with tempfile.TemporaryDirectory() as tmp:
        return _download(incident_pdf(screening, Path(tmp)), "pdf")


@pages.get("/o/{org_id}/compliance-phmsa-annual.csv")
def phmsa_annual(session: DbSession, scope: Viewer, year: Year = None) -> Response:
    service.require_compliance(session=session, org_id=scope.org_id)
    chosen = year or datetime.now(UTC).year - 1
    fields = service.phmsa_annual_fields(session=session, org_id=scope.org_id, year=chosen)
    with tempfile.TemporaryDirectory() as tmp:
        return _download(
            exports.phmsa_annual_csv(fields, Path(tmp), org_id=scope.org_id, year=chosen), "csv"
        )
