"""Organisation SSO settings (API): the org's directory, whether it is required, JIT role."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from hub.portal.auth.dependencies import DbSession
from hub.portal.auth.oidc import enabled_providers
from hub.portal.auth.permissions import TeamManager
from hub.portal.errors import ERROR_RESPONSES, InvalidInput, NotFound
from hub.portal.orgs import sso
from hub.portal.orgs.schemas import OrgSsoRead, OrgSsoUpdate

api = APIRouter(tags=["organisation"], responses=ERROR_RESPONSES)


@api.get("/orgs/{org_id}/sso", response_model=OrgSsoRead)
def get_sso(session: DbSession, scope: TeamManager) -> OrgSsoRead:
    found = sso.get(session=session, org_id=scope.org_id)
    if found is None:
        raise NotFound("This organisation has no SSO directory.")
    return OrgSsoRead.model_validate(found)


@api.put("/orgs/{org_id}/sso", response_model=OrgSsoRead)
def put_sso(
    request: Request, session: DbSession, scope: TeamManager, body: OrgSsoUpdate
) -> OrgSsoRead:
    """Name the org's Entra tenant or Google Workspace domain (plans with SSO only)."""
    provider = enabled_providers(request.app.state.settings.portal).get(body.provider)
    if provider is None or provider.kind not in ("entra", "oidc"):
        raise InvalidInput(
            f"{body.provider!r} is not a Microsoft or Google sign-in of this portal."
        )
    found = sso.configure(
        session=session, scope=scope, provider=body.provider, directory=body.directory,
        required=body.required, jit_role=body.jit_role,
    )  # fmt: skip
    return OrgSsoRead.model_validate(found)


@api.delete("/orgs/{org_id}/sso", status_code=204)
def delete_sso(session: DbSession, scope: TeamManager) -> Response:
    sso.remove(session=session, scope=scope)
    return Response(status_code=204)
