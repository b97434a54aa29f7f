"""Organisation, team and invitations: JSON API and the settings pages."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.mail import send_mail
from hub.portal.auth.permissions import OrgDeleter, TeamManager, Viewer
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.orgs import service, sso_views
from hub.portal.orgs.schemas import (
    InvitationCreate,
    InvitationCreated,
    InvitationPage,
    InvitationRead,
    MemberPage,
    MemberRead,
    MemberUpdate,
    OrganizationRead,
    OrganizationUpdate,
)
from hub.portal.pages import page
from hub.portal.pagination import PageParams, make_page, page_params
from hub.portal.tenancy import HexIdPath, OrgScope, Role

api = APIRouter(tags=["organisation"], responses=ERROR_RESPONSES)
api.include_router(sso_views.api)
pages = APIRouter(include_in_schema=False)

Params = Annotated[PageParams, Depends(page_params)]


def _member_read(membership, user) -> MemberRead:  # type: ignore[no-untyped-def]
    return MemberRead(
        user_id=user.id, email=user.email, name=user.name, role=Role(membership.role),
        joined_at=membership.created_at,
    )  # fmt: skip


def _accept_url(request: Request, token: str) -> str:
    return f"{request.app.state.settings.portal.base_url.rstrip('/')}/invitations/{token}"


def _send_invitation(
    request: Request, session: DbSession, scope: OrgScope, email: str, link: str
) -> None:
    """E-mail the link too (best effort: the inviter also sees it once)."""
    org = service.get_org(session=session, org_id=scope.org_id)
    send_mail(
        request.app.state.settings.portal.smtp, to=email,
        subject=f"You are invited to {org.name} on Altaviz",
        body=f"You are invited to join {org.name} on Altaviz.\n\nAccept here: {link}\n",
    )  # fmt: skip


@api.get("/me", response_model=list[OrganizationRead], summary="My organisations")
def my_orgs(found: CurrentPrincipal) -> list[OrganizationRead]:
    rows = found.orgs  # a token's caller has its own org only
    return [
        OrganizationRead(id=org.id, name=org.name, plan=org.plan, role=role) for org, role in rows
    ]


@api.get("/orgs/{org_id}", response_model=OrganizationRead)
def get_org(session: DbSession, scope: Viewer) -> OrganizationRead:
    org = service.get_org(session=session, org_id=scope.org_id)
    return OrganizationRead(id=org.id, name=org.name, plan=org.plan, role=scope.role)


@api.patch("/orgs/{org_id}", response_model=OrganizationRead)
def update_org(
    session: DbSession, scope: TeamManager, body: OrganizationUpdate
) -> OrganizationRead:
    org = service.update_org(session=session, scope=scope, name=body.name)
    return OrganizationRead(id=org.id, name=org.name, plan=org.plan, role=scope.role)


@api.delete("/orgs/{org_id}", status_code=204)
def delete_org(session: DbSession, scope: OrgDeleter) -> Response:
    service.delete_org(session=session, scope=scope)
    return Response(status_code=204)


@api.get("/orgs/{org_id}/members", response_model=MemberPage)
def list_members(session: DbSession, scope: Viewer, params: Params) -> dict[str, object]:
    rows = service.list_members(session=session, org_id=scope.org_id)
    window = rows[params.offset : params.offset + params.limit]
    return make_page([_member_read(m, u) for m, u in window], len(rows), params)


@api.patch("/orgs/{org_id}/members/{user_id}", response_model=MemberRead)
def change_role(
    session: DbSession, scope: TeamManager, user_id: HexIdPath, body: MemberUpdate
) -> MemberRead:
    service.change_role(session=session, scope=scope, user_id=user_id, role=body.role)
    member = next(
        (m, u) for m, u in service.list_members(session=session, org_id=scope.org_id)
        if u.id == user_id
    )  # fmt: skip
    return _member_read(*member)


@api.delete("/orgs/{org_id}/members/{user_id}", status_code=204)
def remove_member(session: DbSession, scope: TeamManager, user_id: HexIdPath) -> Response:
    service.remove_member(session=session, scope=scope, user_id=user_id)
    return Response(status_code=204)


@api.get("/orgs/{org_id}/invitations", response_model=InvitationPage)
def list_invitations(session: DbSession, scope: TeamManager, params: Params) -> dict[str, object]:
    rows = service.list_invitations(session=session, org_id=scope.org_id)
    window = rows[params.offset : params.offset + params.limit]
    return make_page([InvitationRead.model_validate(i) for i in window], len(rows), params)


@api.post("/orgs/{org_id}/invitations", response_model=InvitationCreated, status_code=201)
def create_invitation(
    request: Request, session: DbSession, scope: TeamManager, body: InvitationCreate
) -> InvitationCreated:
    days = request.app.state.settings.portal.invitation_days
    invitation, token = service.invite(
        session=session, scope=scope, email=body.email, role=body.role, days=days
    )
    _send_invitation(request, session, scope, invitation.email, _accept_url(request, token))
    return InvitationCreated(
        **InvitationRead.model_validate(invitation).model_dump(),
        accept_url=_accept_url(request, token),
    )


@api.delete("/orgs/{org_id}/invitations/{invitation_id}", response_model=InvitationRead)
def revoke_invitation(
    session: DbSession, scope: TeamManager, invitation_id: HexIdPath
) -> InvitationRead:
    invitation = service.revoke_invitation(
        session=session, scope=scope, invitation_id=invitation_id
    )
    return InvitationRead.model_validate(invitation)


# -- pages ----------------------------------------------------------------------------


def _team_page(
    request: Request, session: DbSession, scope: OrgScope, found: CurrentPrincipal, **extra: object
) -> Response:
    return page(
        request, "settings/team.html", session=session, scope=scope, principal=found,
        nav="settings", tab="team",
        members=service.list_members(session=session, org_id=scope.org_id),
        invitations=service.list_invitations(session=session, org_id=scope.org_id),
        roles=list(Role), **extra,
    )  # fmt: skip


@pages.get("/o/{org_id}/settings/team")
def team_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return _team_page(request, session, scope, found)


@pages.post("/o/{org_id}/settings/team/invite")
def team_invite(
    request: Request,
    session: DbSession,
    scope: TeamManager,
    found: CurrentPrincipal,
    email: Annotated[str, Form(max_length=320)],
    role: Annotated[Role, Form()],
) -> Response:
    body = InvitationCreate(email=email, role=role)
    days = request.app.state.settings.portal.invitation_days
    invitation, token = service.invite(
        session=session, scope=scope, email=body.email, role=role, days=days
    )
    _send_invitation(request, session, scope, invitation.email, _accept_url(request, token))
    return _team_page(request, session, scope, found, invite_link=_accept_url(request, token))


@pages.post("/o/{org_id}/settings/team/{user_id}/role")
def team_role(
    session: DbSession, scope: TeamManager, user_id: HexIdPath, role: Annotated[Role, Form()]
) -> Response:
    service.change_role(session=session, scope=scope, user_id=user_id, role=role)
    return RedirectResponse(f"/o/{scope.org_id}/settings/team", status_code=303)


@pages.post("/o/{org_id}/settings/team/{user_id}/remove")
def team_remove(session: DbSession, scope: TeamManager, user_id: HexIdPath) -> Response:
    service.remove_member(session=session, scope=scope, user_id=user_id)
    return RedirectResponse(f"/o/{scope.org_id}/settings/team", status_code=303)


@pages.post("/o/{org_id}/settings/team/invitations/{invitation_id}/revoke")
def team_revoke(session: DbSession, scope: TeamManager, invitation_id: HexIdPath) -> Response:
    service.revoke_invitation(session=session, scope=scope, invitation_id=invitation_id)
    return RedirectResponse(f"/o/{scope.org_id}/settings/team", status_code=303)


@pages.get("/o/{org_id}/settings/organisation")
def org_page(
    request: Request, session: DbSession, scope: Viewer, found: CurrentPrincipal
) -> Response:
    return page(
        request, "settings/organisation.html", session=session, scope=scope, principal=found,
        nav="settings", tab="organisation",
    )  # fmt: skip


@pages.post("/o/{org_id}/settings/organisation/delete")
def org_delete(
    session: DbSession, scope: OrgDeleter, confirm: Annotated[str, Form(max_length=64)]
) -> Response:
    from hub.portal.errors import InvalidInput

    if confirm != scope.org_id:
        raise InvalidInput("Type the organisation id to confirm.")
    service.delete_org(session=session, scope=scope)
    return RedirectResponse("/", status_code=303)
