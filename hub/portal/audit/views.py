"""The audit log: JSON API and the settings page (admins and owners)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import Response

from hub.portal.audit import service
from hub.portal.audit.schemas import AuditEventRead, AuditPage
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import AuditViewer
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.pages import page
from hub.portal.pagination import PageParams, make_page, page_params

api = APIRouter(tags=["audit"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)

Params = Annotated[PageParams, Depends(page_params)]
Action = Annotated[str | None, Query(max_length=64, pattern=r"^[a-z_.]+$")]


@api.get("/orgs/{org_id}/audit", response_model=AuditPage)
def list_audit(
    session: DbSession, scope: AuditViewer, params: Params, action: Action = None
) -> dict[str, object]:
    rows, total = service.list_for_org(
        session=session, org_id=scope.org_id, params=params, action=action
    )
    return make_page([AuditEventRead.model_validate(r) for r in rows], total, params)


@pages.get("/o/{org_id}/settings/audit")
def audit_page(
    request: Request,
    session: DbSession,
    scope: AuditViewer,
    found: CurrentPrincipal,
    params: Params,
) -> Response:
    rows, total = service.list_for_org(session=session, org_id=scope.org_id, params=params)
    return page(
        request, "settings/audit.html", session=session, scope=scope, principal=found,
        nav="settings", tab="audit", events=rows, total=total, params=params,
    )  # fmt: skip
