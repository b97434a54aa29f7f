"""Models: the version each station runs and the rollout state (API and page)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import Viewer
from hub.portal.billing.dependencies import feature_required
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.fleet.overview import model_states
from hub.portal.models_view import service
from hub.portal.models_view.schemas import ModelVersionRead, StationModelRead
from hub.portal.pages import page

api = APIRouter(tags=["models"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)


@api.get(
    "/orgs/{org_id}/models/stations",
    response_model=list[StationModelRead],
    dependencies=[feature_required("ml")],
)
def station_models(session: DbSession, scope: Viewer) -> list[StationModelRead]:
    return service.station_models(session=session, org_id=scope.org_id)


@api.get(
    "/orgs/{org_id}/models/versions",
    response_model=list[ModelVersionRead],
    dependencies=[feature_required("ml")],
)
def model_versions(session: DbSession, scope: Viewer) -> list[ModelVersionRead]:
    return service.model_versions(session=session, org_id=scope.org_id)


@pages.get("/o/{org_id}/models", dependencies=[feature_required("ml")])
def models_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return page(
        request, "models/index.html", session=session, scope=scope, principal=found,
        nav="models", stations=service.station_models(session=session, org_id=scope.org_id),
        versions=service.model_versions(session=session, org_id=scope.org_id),
        models=model_states(session=session, org_id=scope.org_id),
    )  # fmt: skip
