"""Who is calling (session cookie or API token), CSRF, and the tenant scope of the request.

`tenant_scope` is the one place where a request's org is chosen and set for RLS.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from hub.db.models import Organization
from hub.portal.audit import service as audit
from hub.portal.auth import service as auth
from hub.portal.auth.models import User, UserSession
from hub.portal.billing import gates
from hub.portal.db import db_session
from hub.portal.errors import CsrfFailed, NotAuthenticated, NotFound
from hub.portal.orgs import sso as org_sso
from hub.portal.security import same_secret
from hub.portal.tenancy import OrgScope, Role, TenantId, set_db_scope
from hub.portal.tokens import service as tokens
from hub.portal.tokens.models import ApiToken

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

DbSession = Annotated[Session, Depends(db_session, scope="function")]


@dataclass
class Principal:
    user: User
    #: The caller's organisations and role in each (a token: its own org only).
    orgs: list[tuple[Organization, Role]] = field(default_factory=list)
    session_record: UserSession | None = None
    token: ApiToken | None = None

    @property
    def csrf_token(self) -> str:
        return self.session_record.csrf_token if self.session_record else ""

    def role_in(self, org_id: str) -> Role | None:
        return next((role for org, role in self.orgs if org.id == org_id), None)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def audit_refusal(request: Request, action: str, **detail: str | None) -> None:
    """Audit a refused credential in its own transaction (the request's is rolled back)."""
    with request.app.state.session_factory() as session, session.begin():
        session.info["request_ip"] = client_ip(request)
        session.info["request_id"] = getattr(request.state, "request_id", None)
        audit.record(
            session=session, action=action, outcome="failure",
            detail={"path": request.url.path[:200], **detail},
        )  # fmt: skip


def optional_principal(request: Request, session: DbSession) -> Principal | None:
    session.info["request_ip"] = client_ip(request)
    session.info["request_id"] = getattr(request.state, "request_id", None)
    authorization = request.headers.get("authorization", "")
    if authorization:
        scheme, _, secret = authorization.partition(" ")
        if scheme.lower() != "bearer":
            raise NotAuthenticated("Use 'Authorization: Bearer <API token>'.")
        authenticated = tokens.authenticate(session=session, secret=secret.strip())
        if authenticated is None:
            audit_refusal(request, "auth.token_refused", token_prefix=secret.strip()[:8])
            raise NotAuthenticated("The API token is invalid, expired or revoked.")
        token, caller = authenticated
        request.app.state.api_limits.hit_token(token.id)
        return Principal(user=caller.user, orgs=caller.orgs, token=token)
    cookie = request.cookies.get(request.app.state.settings.portal.cookie_name)
    if cookie and len(cookie) <= 200:
        caller = auth.resolve_session(session=session, token=cookie)
        if caller is not None:
            return Principal(
                user=caller.user, orgs=caller.orgs, session_record=caller.session_record
            )
    if cookie:  # expired, ended or tampered with: the caller is treated as signed out
        request.state.stale_session = True
        audit_refusal(request, "auth.session_refused")
    return None


OptionalPrincipal = Annotated[Principal | None, Depends(optional_principal)]


async def principal(request: Request, found: OptionalPrincipal) -> Principal:
    # async: pure logic, so FastAPI runs it on the event loop instead of a worker thread.
    if found is None:
        if getattr(request.state, "stale_session", False):
            raise NotAuthenticated("Your session has expired or was ended; sign in again.")
        raise NotAuthenticated()
    return found


CurrentPrincipal = Annotated[Principal, Depends(principal)]


async def csrf_guard(request: Request, found: OptionalPrincipal) -> None:
    """Cookie-authenticated writes must echo the session's CSRF token (form field or header)."""
    if request.method in SAFE_METHODS or found is None or found.token is not None:
        return
    sent = request.headers.get("x-csrf-token", "")
    content_type = request.headers.get("content-type", "")
    if not sent and content_type.startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        sent = str((await request.form()).get("csrf_token", ""))
    if not sent or not same_secret(sent, found.csrf_token):
        raise CsrfFailed()


def tenant_scope(
    request: Request, org_id: TenantId, found: CurrentPrincipal, session: DbSession
) -> OrgScope:
    """The caller's role in the URL's org; 404 (not 403) when they are not a member."""
    role = found.role_in(org_id)  # a token's caller has its own org only
    if role is None:
        if found.token is not None:  # a token used on another org
            audit_refusal(request, "auth.token_wrong_org", token_id=found.token.id)
        raise NotFound("No such organisation.")
    if request.url.path.startswith("/api/"):
        request.app.state.api_limits.hit_org(org_id)
    set_db_scope(session, user_id=found.user.id, org_id=org_id)
    # API tokens are machine access, and owners keep their way in (break-glass): neither
    # is bound to the org's directory.
    if found.session_record is not None and role != Role.owner:
        org_sso.check_session(
            session=session, org_id=org_id, sso_directory=found.session_record.sso_directory
        )
    # A trial that ended or a payment failed past its grace: read-only, except paying.
    if request.method not in SAFE_METHODS and "/billing" not in request.url.path:
        gates.require_writable(session=session, org_id=org_id)
        gates.require_caller_writable(
            session=session, org_id=org_id, user_id=found.user.id,
            token_id=found.token.id if found.token else None,
        )  # fmt: skip
    return OrgScope(
        org_id=org_id, user_id=found.user.id, role=role, via_token=found.token is not None
    )


Tenant = Annotated[OrgScope, Depends(tenant_scope)]
