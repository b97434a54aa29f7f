"""What every signed-in page needs: the org, the user's orgs, the role's allowed actions."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from hub.portal.auth import permissions as perms
from hub.portal.auth.dependencies import Principal
from hub.portal.fleet.telemetry import data_now
from hub.portal.templating import render
from hub.portal.tenancy import OrgScope


def page(
    request: Request,
    name: str,
    *,
    session: Session,
    scope: OrgScope,
    principal: Principal,
    nav: str,
    status: int = 200,
    **context: Any,
) -> HTMLResponse:
    memberships = principal.orgs
    org = next((o for o, _ in memberships if o.id == scope.org_id), None)
    can = {p.action: perms.allowed(scope, p) for p in perms.ALL_PERMISSIONS}
    return render(
        request,
        name,
        {
            "principal": principal,
            "scope": scope,
            "org": org,
            "memberships": memberships,
            "csrf_token": principal.csrf_token,
            "nav": nav,
            "can": can,
            "data_now": data_now(session=session, org_id=scope.org_id),
            **context,
        },
        status=status,
    )
