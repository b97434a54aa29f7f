"""Sign-in through providers, and linking a provider account to an existing account.

Failures end on a page that says what happened (400, or 409 when an address is taken)
and leave an audit entry; they are returned rather than raised so that entry commits.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Form, Path, Request
from fastapi.responses import Response
from itsdangerous import BadData, URLSafeTimedSerializer
from starlette.concurrency import run_in_threadpool

from hub.portal.audit import service as audit
from hub.portal.auth import csrf, oidc, sso
from hub.portal.auth import service as auth
from hub.portal.auth.dependencies import DbSession, client_ip
from hub.portal.auth.errors import AccountLocked, InvalidCredentials, InvalidLink
from hub.portal.auth.mail import send_mail
from hub.portal.auth.oidc import ProviderIdentity, SignInFailed
from hub.portal.errors import NotFound, PortalError, RateLimited
from hub.portal.orgs import sso as org_sso
from hub.portal.security import new_secret
from hub.portal.templating import render
from hub.settings import OidcProviderSettings

router = APIRouter(include_in_schema=False)

ProviderName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$")]
#: The pending link lives in the signed, 10-minute state cookie (Starlette's session).
PENDING = "pending_link"
LINK_SALT = "altaviz-link-identity"
LINK_MAX_AGE_S = 1800


def _configured(request: Request, provider: str) -> OidcProviderSettings:
    configured = oidc.enabled_providers(request.app.state.settings.portal).get(provider)
    if configured is None:
        raise NotFound("No such sign-in provider.")
    return configured


def _failure(
    request: Request, session: Any, exc: PortalError, *, provider: str, email: str | None = None
) -> Response:
    audit.record(
        session=session, action="auth.sso", actor_email=email, outcome="failure",
        detail={"provider": provider, "reason": exc.message[:200], "ip": client_ip(request)},
    )  # fmt: skip
    # An invalid or expired link is a 400 here as on the password-reset page.
    status = 400 if isinstance(exc, InvalidLink) else exc.status
    return render(
        request, "auth/sso_result.html", {"error": exc.message, "provider": provider},
        status=status,
    )  # fmt: skip


@router.get("/auth/{provider}/login")
async def provider_login(request: Request, provider: ProviderName) -> Response:
    configured = _configured(request, provider)
    base_url = request.app.state.settings.portal.base_url.rstrip("/")
    client = oidc.client_for(request.app.state.oauth, provider)
    try:
        response: Response = await oidc.authorize_redirect(
            request, client, f"{base_url}/auth/{provider}/callback", configured.display_name
        )
    except SignInFailed as exc:
        return render(request, "auth/sso_result.html", {"error": exc.message}, status=exc.status)
    return response


@router.get("/auth/{provider}/callback")
async def provider_callback(
    request: Request, session: DbSession, provider: ProviderName
) -> Response:
    from hub.portal.auth.views import start_session

    configured = _configured(request, provider)
    try:
        identity = await oidc.identity_from_callback(
            request, request.app.state.oauth, provider, configured
        )
    except SignInFailed as exc:
        return await run_in_threadpool(_failure, request, session, exc, provider=provider)
    try:
        user = await run_in_threadpool(
            sso.sign_in, session=session, identity=identity, client_ip=client_ip(request),
            signups_per_hour=request.app.state.settings.portal.signup_rate_per_hour_ip,
            trial_days=_trial_days(request),
        )  # fmt: skip
    except sso.LinkRequired:
        return _link_page(request, identity, configured)
    except (InvalidCredentials, RateLimited) as exc:
        return await run_in_threadpool(
            _failure, request, session, exc, provider=provider, email=identity.email
        )
    directory = org_sso.identity_directory(identity)
    return await run_in_threadpool(start_session, request, session, user, "/", directory)


def _trial_days(request: Request) -> int | None:
    stripe = request.app.state.settings.portal.stripe
    return stripe.trial_days if stripe.enabled else None


def _link_page(
    request: Request, identity: ProviderIdentity, configured: OidcProviderSettings
) -> Response:
    context: dict[str, Any] = {"email": identity.email, "title": configured.display_name}
    if not identity.email_verified:
        # The nOAuth pattern: an unverified address never reaches an existing account.
        context["error"] = (
            f"An account already uses {identity.email}, and {configured.display_name} did not "
            "confirm that this address is yours, so the two cannot be linked. Sign in with "
            "your password instead."
        )
        return render(request, "auth/sso_result.html", context, status=409)
    pending = sso.PendingLink.of(identity).dump()
    request.session[PENDING] = {**pending, "nonce": new_secret(16)}
    token = csrf.anonymous_token(request)
    response = render(request, "auth/link.html", {**context, "csrf_token": token})
    csrf.set_anonymous_cookie(request, response, token)
    return response


def _pending(request: Request) -> tuple[sso.PendingLink, str]:
    data = request.session.get(PENDING)
    found = sso.PendingLink.load(data)
    if found is None or not isinstance(data, dict) or not data.get("nonce"):
        raise InvalidLink("This sign-in has expired; start again from the sign-in page.")
    return found, str(data["nonce"])


@router.post("/auth/link/password")
def link_with_password(
    request: Request,
    session: DbSession,
    password: Annotated[str, Form(max_length=1024)],
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    from hub.portal.auth.views import start_session

    csrf.verify_anonymous(request, csrf_token)
    try:
        pending, _ = _pending(request)
        user = auth.authenticate_password(
            session=session, email=pending.email, password=password,
            client_ip=client_ip(request), settings=request.app.state.settings.portal,
        )  # fmt: skip
        user = sso.link_and_sign_in(session=session, user=user, pending=pending, proof="password")
    except (AccountLocked, RateLimited, InvalidCredentials, InvalidLink) as exc:
        return _failure(request, session, exc, provider="link")
    request.session.pop(PENDING, None)
    return start_session(
        request, session, user, "/", org_sso.identity_directory(pending.identity())
    )


@router.post("/auth/link/email")
def link_by_email(
    request: Request,
    session: DbSession,
    background: BackgroundTasks,
    csrf_token: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    csrf.verify_anonymous(request, csrf_token)
    try:
        pending, nonce = _pending(request)
    except InvalidLink as exc:
        return _failure(request, session, exc, provider="link")
    settings = request.app.state.settings.portal
    signer = URLSafeTimedSerializer(request.app.state.signing_key, salt=LINK_SALT)
    token = signer.dumps({**pending.dump(), "nonce": nonce})
    link = f"{settings.base_url.rstrip('/')}/auth/link/{token}"
    title = _configured(request, pending.provider).display_name
    # Off the request path: the page answers before the mail server is contacted.
    background.add_task(
        send_mail, settings.smtp, to=pending.email, subject=f"Link your {title} sign-in",
        body=(
            f"Someone (hopefully you) signed in with {title} and asked to link it to the "
            f"Altaviz account of this address. To link them, open this link within 30 "
            f"minutes, in the same browser:\n\n{link}\n\nIf this was not you, ignore this "
            "message: nothing changes.\n"
        ),
    )  # fmt: skip
    audit.record(
        session=session, action="auth.sso_link_mailed", actor_email=pending.email,
        detail={"provider": pending.provider},
    )  # fmt: skip
    return render(request, "auth/sso_result.html", {"sent": True, "email": pending.email})


@router.get("/auth/link/{token}")
def link_from_email(
    request: Request, session: DbSession, token: Annotated[str, Path(max_length=2000)]
) -> Response:
    from hub.portal.auth.views import start_session

    signer = URLSafeTimedSerializer(request.app.state.signing_key, salt=LINK_SALT)
    try:
        data = signer.loads(token, max_age=LINK_MAX_AGE_S)
        pending, nonce = _pending(request)
        # Bound to the browser that started: a mailed link alone links nothing.
        if (
            not isinstance(data, dict)
            or data.get("nonce") != nonce
            or sso.PendingLink.load(data) != pending
        ):
            raise InvalidLink("Open the link in the browser where you started signing in.")
        user = auth.get_user_by_email(session=session, email=pending.email)
        if user is None:
            raise InvalidLink()
        user = sso.link_and_sign_in(session=session, user=user, pending=pending, proof="email")
    except BadData:
        return _failure(request, session, InvalidLink(), provider="link")
    except (InvalidLink, InvalidCredentials) as exc:
        return _failure(request, session, exc, provider="link")
    request.session.pop(PENDING, None)
    return start_session(
        request, session, user, "/", org_sso.identity_directory(pending.identity())
    )
