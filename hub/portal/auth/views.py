"""Sign-in pages: password, providers, sign-out, password reset, invitations."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.audit import service as audit
from hub.portal.auth import csrf, oidc, sso_views, throttle
from hub.portal.auth import service as auth
from hub.portal.auth.dependencies import (
    CurrentPrincipal,
    DbSession,
    OptionalPrincipal,
    Principal,
    client_ip,
)
from hub.portal.auth.errors import AccountLocked, InvalidCredentials, InvalidLink, WeakPassword
from hub.portal.auth.mail import send_mail
from hub.portal.auth.models import User
from hub.portal.errors import Forbidden, RateLimited
from hub.portal.orgs import service as orgs
from hub.portal.templating import render
from hub.settings import PortalSettings

router = APIRouter(include_in_schema=False)
router.include_router(sso_views.router)

#: A secret from an e-mailed link (reset, invitation).
SecretPath = Annotated[str, Path(min_length=20, max_length=200)]

Field = Annotated[str, Form(max_length=1024)]


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/"


def start_session(
    request: Request, session: DbSession, user: User, target: str,
    sso_directory: str | None = None,
) -> Response:  # fmt: skip
    """Issue the session cookie: HttpOnly, SameSite=Lax, Secure outside development, 8 h.

    `sso_directory` names the org directory a provider sign-in went through (org SSO).
    """
    settings = request.app.state.settings
    memberships = orgs.organisations_of(session=session, user_id=user.id)
    org_id = memberships[0][0].id if memberships else None
    created = auth.create_session(
        session=session, user=user, client_ip=client_ip(request),
        hours=settings.portal.session_hours, org_id=org_id, sso_directory=sso_directory,
    )  # fmt: skip
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(
        settings.portal.cookie_name, created.token,
        max_age=int(settings.portal.session_hours * 3600), httponly=True, samesite="lax",
        secure=settings.cookie_secure, path="/",
    )  # fmt: skip
    return response


def _login_page(
    request: Request, *, error: str | None = None, email: str = "", status: int = 200
) -> Response:
    token = csrf.anonymous_token(request)
    settings = request.app.state.settings
    response = render(
        request, "auth/login.html",
        {"csrf_token": token, "error": error, "email": email,
         "next": _safe_next(request.query_params.get("next")),
         "providers": oidc.enabled_providers(settings.portal)},
        status=status,
    )  # fmt: skip
    csrf.set_anonymous_cookie(request, response, token)
    return response


@router.get("/")
def home(found: OptionalPrincipal, session: DbSession) -> Response:
    if found is None:
        return RedirectResponse("/login", status_code=303)
    memberships = found.orgs
    preferred = found.session_record.org_id if found.session_record else None
    ids = [org.id for org, _ in memberships]
    org_id = preferred if preferred in ids else (ids[0] if ids else None)
    if org_id is None:
        return RedirectResponse("/account", status_code=303)
    return RedirectResponse(f"/o/{org_id}/fleet", status_code=303)


@router.get("/login")
def login_form(request: Request) -> Response:
    return _login_page(request)


@router.post("/login")
def login(
    request: Request,
    session: DbSession,
    email: Annotated[str, Form(max_length=320)],
    password: Field,
    csrf_token: Field = "",
    next: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    csrf.verify_anonymous(request, csrf_token)
    settings = request.app.state.settings
    try:
        user = auth.authenticate_password(
            session=session, email=email, password=password,
            client_ip=client_ip(request), settings=settings.portal,
        )  # fmt: skip
    except (AccountLocked, RateLimited) as exc:
        response = _login_page(request, error=exc.message, email=email, status=429)
        response.headers.update(exc.headers or {})
        return response
    except InvalidCredentials as exc:
        # Returned, not raised: the attempt and its audit entry must be committed.
        return _login_page(request, error=exc.message, email=email, status=401)
    return start_session(request, session, user, _safe_next(next))


@router.post("/logout")
def logout(request: Request, session: DbSession, found: CurrentPrincipal) -> Response:
    if found.session_record is not None:
        auth.end_session(session=session, record=found.session_record)
    from hub.portal.audit import service as audit

    audit.record(
        session=session, action="auth.logout", actor_user_id=found.user.id,
        actor_email=found.user.email,
    )  # fmt: skip
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(request.app.state.settings.portal.cookie_name, path="/")
    return response


@router.get("/account")
def account(request: Request, found: CurrentPrincipal) -> Response:
    return render(
        request, "auth/account.html",
        {"principal": found, "memberships": found.orgs, "csrf_token": found.csrf_token},
    )  # fmt: skip


# -- password reset ------------------------------------------------------------------


@router.get("/forgot-password")
def forgot_form(request: Request) -> Response:
    token = csrf.anonymous_token(request)
    response = render(request, "auth/forgot.html", {"csrf_token": token, "sent": False})
    csrf.set_anonymous_cookie(request, response, token)
    return response


@router.post("/forgot-password")
def forgot(
    request: Request,
    session: DbSession,
    background: BackgroundTasks,
    email: Annotated[str, Form(max_length=320)],
    csrf_token: Field = "",
) -> Response:
    csrf.verify_anonymous(request, csrf_token)
    settings = request.app.state.settings.portal
    address, ip = auth.normalise_email(email)[:320], client_ip(request)
    try:
        throttle.check(
            session=session, kind="reset", email=address, client_ip=ip,
            per_ip=settings.reset_rate_per_hour_ip,
            per_account=settings.reset_rate_per_hour_account, window=timedelta(hours=1),
        )  # fmt: skip
    except RateLimited as exc:
        audit.record(
            session=session, action="auth.password_reset_requested", actor_email=address,
            outcome="blocked", detail={"ip": ip},
        )  # fmt: skip
        context = {"csrf_token": csrf_token, "sent": False, "error": exc.message}
        response = render(request, "auth/forgot.html", context, status=429)
        response.headers.update(exc.headers or {})
        return response
    throttle.record(session=session, kind="reset", email=address, client_ip=ip)
    # The same work and the same answer whether or not the address has an account: the
    # lookup, the token and the mail all happen after the response has gone.
    background.add_task(_deliver_reset, request.app.state.session_factory, settings, address)
    return render(request, "auth/forgot.html", {"csrf_token": csrf_token, "sent": True})


def _deliver_reset(session_factory: Any, settings: PortalSettings, email: str) -> None:
    """A background job: its own transaction, then the mail (never on the request path)."""
    with session_factory() as session, session.begin():
        issued = auth.request_password_reset(session=session, email=email, settings=settings)
    if issued is None:
        return
    user, token = issued
    link = f"{settings.base_url.rstrip('/')}/reset-password/{token}"
    send_mail(
        settings.smtp, to=user.email, subject="Reset your Altaviz password",
        body=(
            f"Hello {user.name},\n\nTo choose a new password, open this link within "
            f"{settings.password_reset_minutes:g} minutes (it works once):\n\n{link}\n\n"
            "If you did not ask for this, ignore this message.\n"
        ),
    )  # fmt: skip


@router.get("/reset-password/{token}")
def reset_form(request: Request, session: DbSession, token: SecretPath) -> Response:
    try:
        auth.check_reset_token(session=session, token=token)
    except InvalidLink as exc:
        return render(
            request, "auth/reset.html", {"error": exc.message, "valid": False}, status=400
        )
    anon = csrf.anonymous_token(request)
    response = render(request, "auth/reset.html", {"csrf_token": anon, "valid": True})
    csrf.set_anonymous_cookie(request, response, anon)
    return response


@router.post("/reset-password/{token}")
def reset(
    request: Request, session: DbSession, token: SecretPath, password: Field, csrf_token: Field = ""
) -> Response:
    csrf.verify_anonymous(request, csrf_token)
    try:
        auth.reset_password(session=session, token=token, new_password=password)
    except (InvalidLink, WeakPassword) as exc:
        valid = isinstance(exc, WeakPassword)
        return render(
            request, "auth/reset.html",
            {"error": exc.message, "valid": valid, "csrf_token": csrf_token}, status=400,
        )  # fmt: skip
    return RedirectResponse("/login?reset=1", status_code=303)


# -- invitations -------------------------------------------------------------------------


@router.get("/invitations/{token}")
def invitation_page(
    request: Request, session: DbSession, found: OptionalPrincipal, token: SecretPath
) -> Response:
    try:
        invitation = orgs.find_invitation(session=session, token=token)
    except InvalidLink as exc:
        return render(request, "auth/invitation.html", {"error": exc.message}, status=400)
    org_name = orgs.invitation_org_name(session=session, invitation=invitation)
    has_account = auth.get_user_by_email(session=session, email=invitation.email) is not None
    anon = csrf.anonymous_token(request)
    response = render(
        request, "auth/invitation.html",
        {"invitation": invitation, "org_name": org_name, "principal": found,
         "has_account": has_account, "token": token,
         "csrf_token": found.csrf_token if found else anon},
    )  # fmt: skip
    if found is None:
        csrf.set_anonymous_cookie(request, response, anon)
    return response


@router.post("/invitations/{token}/accept")
def accept_invitation(
    request: Request, session: DbSession, found: CurrentPrincipal, token: SecretPath
) -> Response:
    membership = orgs.accept_invitation(session=session, token=token, user=found.user)
    return RedirectResponse(f"/o/{membership.org_id}/fleet", status_code=303)


@router.post("/invitations/{token}/register")
def register_from_invitation(
    request: Request,
    session: DbSession,
    token: SecretPath,
    name: Annotated[str, Form(max_length=200)],
    password: Field,
    csrf_token: Field = "",
) -> Response:
    """A new person: create the account for the invited address, then join."""
    csrf.verify_anonymous(request, csrf_token)
    invitation = orgs.find_invitation(session=session, token=token)
    if auth.get_user_by_email(session=session, email=invitation.email) is not None:
        raise Forbidden("An account exists for this address: sign in to accept.")
    limit = request.app.state.settings.portal.signup_rate_per_hour_ip
    throttle.check(
        session=session, kind="signup", email=invitation.email, client_ip=client_ip(request),
        per_ip=limit, per_account=limit, window=timedelta(hours=1),
    )  # fmt: skip
    throttle.record(
        session=session, kind="signup", email=invitation.email, client_ip=client_ip(request)
    )
    user = auth.create_user(session=session, email=invitation.email, name=name, password=password)
    orgs.accept_invitation(session=session, token=token, user=user)
    return start_session(request, session, user, f"/o/{invitation.org_id}/fleet")


def principal_context(found: Principal) -> dict[str, object]:
    return {"principal": found, "csrf_token": found.csrf_token}
