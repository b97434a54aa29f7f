"""Data quality: API and page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import Viewer
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.pages import page
from hub.portal.quality import service
from hub.portal.quality.schemas import StationQualityRead

api = APIRouter(tags=["data quality"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)


@api.get("/orgs/{org_id}/quality", response_model=list[StationQualityRead])
def quality(session: DbSession, scope: Viewer) -> list[StationQualityRead]:
    """Per station: freshness, completeness of the last hour, ingest lag, quality flags."""
    return service.station_quality(session=session, org_id=scope.org_id)


@pages.get("/o/{org_id}/quality")
def quality_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return page(
        request, "quality/index.html", session=session, scope=scope, principal=found,
        nav="quality", rows=service.station_quality(session=session, org_id=scope.org_id),
    )  # fmt: skip
