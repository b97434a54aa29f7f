"""Personal API tokens: JSON API and the settings page."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.auth.dependencies import CurrentPrincipal, DbSession, Principal
from hub.portal.auth.permissions import TokenManager, Viewer
from hub.portal.errors import ERROR_RESPONSES, NotFound
from hub.portal.pages import page
from hub.portal.pagination import PageParams, make_page, page_params
from hub.portal.tenancy import HexIdPath, OrgScope
from hub.portal.tokens import service
from hub.portal.tokens.schemas import ApiTokenCreate, ApiTokenCreated, ApiTokenPage, ApiTokenRead

api = APIRouter(tags=["api tokens"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)

Params = Annotated[PageParams, Depends(page_params)]


@api.get("/orgs/{org_id}/tokens", response_model=ApiTokenPage)
def list_tokens(session: DbSession, scope: TokenManager, params: Params) -> dict[str, object]:
    rows = service.list_for_org(session=session, org_id=scope.org_id)
    window = rows[params.offset : params.offset + params.limit]
    return make_page([ApiTokenRead.model_validate(t) for t in window], len(rows), params)


@api.post("/orgs/{org_id}/tokens", response_model=ApiTokenCreated, status_code=201)
def create_token(session: DbSession, scope: TokenManager, body: ApiTokenCreate) -> ApiTokenCreated:
    token, secret = service.create(
        session=session,
        scope=scope,
        name=body.name,
        expires_in_days=body.expires_in_days,
        token_scope=body.scope,
    )
    return ApiTokenCreated(**ApiTokenRead.model_validate(token).model_dump(), token=secret)


@api.get("/orgs/{org_id}/tokens/{token_id}", response_model=ApiTokenRead)
def get_token(session: DbSession, scope: TokenManager, token_id: HexIdPath) -> ApiTokenRead:
    token = service.get(session=session, org_id=scope.org_id, token_id=token_id)
    if token is None:
        raise NotFound("No such token.")
    return ApiTokenRead.model_validate(token)


@api.delete("/orgs/{org_id}/tokens/{token_id}", response_model=ApiTokenRead)
def revoke_token(session: DbSession, scope: TokenManager, token_id: HexIdPath) -> ApiTokenRead:
    return ApiTokenRead.model_validate(
        service.revoke(session=session, scope=scope, token_id=token_id)
    )


def _tokens_page(
    request: Request,
    session: DbSession,
    scope: OrgScope,
    found: Principal,
    **extra: object,
) -> Response:
    return page(
        request, "settings/tokens.html", session=session, scope=scope, principal=found,
        nav="settings", tab="tokens",
        tokens=service.list_for_org(session=session, org_id=scope.org_id), **extra,
    )  # fmt: skip


@pages.get("/o/{org_id}/settings/tokens")
def tokens_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return _tokens_page(request, session, scope, found)


@pages.post("/o/{org_id}/settings/tokens")
def tokens_create(
    request: Request,
    session: DbSession,
    scope: TokenManager,
    found: CurrentPrincipal,
    name: Annotated[str, Form(min_length=1, max_length=100)],
    token_scope: Annotated[str, Form(pattern="^(read|read_write)$")] = "read_write",
) -> Response:
    body = ApiTokenCreate(name=name, scope=token_scope)  # type: ignore[arg-type]
    _, secret = service.create(
        session=session, scope=scope, name=body.name, expires_in_days=None, token_scope=body.scope
    )
    return _tokens_page(request, session, scope, found, new_token=secret)


@pages.post("/o/{org_id}/settings/tokens/{token_id}/revoke")
def tokens_revoke(session: DbSession, scope: TokenManager, token_id: HexIdPath) -> Response:
    service.revoke(session=session, scope=scope, token_id=token_id)
    return RedirectResponse(f"/o/{scope.org_id}/settings/tokens", status_code=303)
