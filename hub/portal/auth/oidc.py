"""Sign-in through GitHub, Google, Microsoft Entra ID or any OIDC provider, with Authlib.

Providers come from settings (`portal.oidc`); one with an empty client id is not offered.
Every way a provider sign-in can fail (state mismatch, an expired or replayed code, a
wrong issuer, audience or nonce, a tenant not allowed, the provider unreachable) becomes
`SignInFailed`: a page that says what happened, with a 400, never a 500.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Any

import httpx
from authlib.common.errors import AuthlibBaseError
from authlib.integrations.starlette_client import OAuth
from joserfc.errors import JoseError
from starlette.requests import Request

from hub.portal.errors import NotFound, PortalError
from hub.settings import OidcProviderSettings, PortalSettings

log = logging.getLogger(__name__)

#: Entra's multi-tenant discovery documents name their issuer with this placeholder.
TENANT_PLACEHOLDER = "{tenantid}"
_TENANT_ID = re.compile(r"^[A-Za-z0-9-]{1,64}$")


class SignInFailed(PortalError):
    """Sign-in through the provider did not complete."""

    status = 400
    code = "sign_in_failed"


@dataclass(frozen=True)
class ProviderIdentity:
    """Who the provider says signed in. `email_verified` is True only when asserted."""

    provider: str
    subject: str
    email: str
    email_verified: bool
    name: str
    #: Entra: the directory (tenant) id; Google: the Workspace domain (`hd`).
    tenant: str | None = None

    @property
    def subject_key(self) -> str:
        return f"{self.provider}:{self.subject}"[:300]


def build_registry(settings: PortalSettings) -> OAuth:
    oauth = OAuth()
    for name, provider in settings.oidc.items():
        if not provider.enabled:
            continue
        common: dict[str, Any] = {
            "name": name,
            "client_id": provider.client_id,
            "client_secret": provider.client_secret.get_secret_value(),
            "client_kwargs": {"scope": provider.scope, "timeout": 10},
        }
        if provider.kind == "github":
            oauth.register(
                **common,
                authorize_url=provider.authorize_url,
                access_token_url=provider.token_url,
                api_base_url=provider.api_base_url,
            )
        else:
            oauth.register(**common, server_metadata_url=provider.server_metadata_url)
    return oauth


def enabled_providers(settings: PortalSettings) -> dict[str, OidcProviderSettings]:
    return {name: p for name, p in settings.oidc.items() if p.enabled}


def client_for(oauth: OAuth, name: str) -> Any:
    client = oauth.create_client(name)
    if client is None:
        raise NotFound("No such sign-in provider.")
    return client


async def authorize_redirect(request: Request, client: Any, redirect_uri: str, title: str) -> Any:
    """The redirect to the provider; an unreachable provider is a page, not a 500."""
    try:
        return await client.authorize_redirect(request, redirect_uri)
    except (httpx.HTTPError, ValueError, KeyError) as exc:
        log.warning("sign-in provider %s unreachable: %s", title, exc)
        raise SignInFailed(f"{title} cannot be reached right now; try again later.") from exc


def entra_issuer(metadata_issuer: str, tenant: str) -> str:
    """The issuer a token from `tenant` must carry (multi-tenant documents use a template)."""
    return metadata_issuer.replace(TENANT_PLACEHOLDER, tenant)


def _claims_options(client: Any, metadata: dict[str, Any], kind: str) -> dict[str, Any]:
    """Issuer and audience are always checked (Authlib alone skips the audience)."""
    issuer = str(metadata.get("issuer") or "")
    options: dict[str, Any] = {"aud": {"essential": True, "value": client.client_id}}
    if kind == "entra":

        def _matches_tenant(claims: Any, value: Any) -> bool:
            tenant = str(claims.get("tid") or "")
            return bool(_TENANT_ID.match(tenant)) and value == entra_issuer(issuer, tenant)

        options["iss"] = {"essential": True, "validate": _matches_tenant}
    else:
        options["iss"] = {"essential": True, "value": issuer}
    return options


async def identity_from_callback(
    request: Request, oauth: OAuth, name: str, provider: OidcProviderSettings
) -> ProviderIdentity:
    """Exchange the code and read who signed in; SignInFailed says why when it fails."""
    client = client_for(oauth, name)
    title = provider.display_name
    if request.query_params.get("error"):
        raise SignInFailed(f"{title} did not sign you in ({request.query_params['error'][:60]}).")
    try:
        if provider.kind == "github":
            token = await client.authorize_access_token(request)
            return await _github_identity(name, client, token)
        metadata = await client.load_server_metadata()
        token = await client.authorize_access_token(
            request, claims_options=_claims_options(client, metadata, provider.kind)
        )
    except (httpx.HTTPError, OSError) as exc:
        log.warning("sign-in provider %s unreachable: %s", title, exc)
        raise SignInFailed(f"{title} cannot be reached right now; try again later.") from exc
    except (AuthlibBaseError, JoseError, KeyError, ValueError, TypeError) as exc:
        log.info("sign-in with %s refused: %r", title, exc)
        raise SignInFailed(_explain(exc, title)) from exc
    claims = token.get("userinfo")
    if not claims or not claims.get("sub"):
        raise SignInFailed(f"{title} did not send a signed identity (no ID token).")
    return _oidc_identity(name, provider, claims)


def _explain(exc: Exception, title: str) -> str:
    text = f"{getattr(exc, 'error', '')} {getattr(exc, 'description', '')} {exc}".lower()
    if "state" in text:
        return "This sign-in link has expired or was opened in another browser; start again."
    if "invalid_grant" in text or "code" in text:
        return f"The sign-in code from {title} is invalid or has expired; start again."
    for claim in ("iss", "aud", "nonce", "azp", "exp"):
        if f"'{claim}'" in text or f'"{claim}"' in text:
            return f"{title} sent an identity token that is not valid here ({claim} claim)."
    return f"Sign-in with {title} failed; start again."


def _oidc_identity(name: str, provider: OidcProviderSettings, claims: Any) -> ProviderIdentity:
    title = provider.display_name
    tenant: str | None = None
    if provider.kind == "entra":
        tenant = str(claims.get("tid") or "")
        if provider.allowed_tenants and tenant not in provider.allowed_tenants:
            raise SignInFailed(f"Your {title} organisation ({tenant}) may not sign in here.")
    elif claims.get("hd"):
        tenant = str(claims["hd"]).lower()
    # Entra's `email` is any address a tenant admin typed in: without an explicit
    # `email_verified: true` it never counts as proof of the address.
    email = str(claims.get("email") or "")
    if not email and provider.kind == "entra":
        email = str(claims.get("preferred_username") or "")
    if "@" not in email:
        raise SignInFailed(f"{title} did not send an e-mail address.")
    return ProviderIdentity(
        provider=name,
        subject=str(claims["sub"]),
        email=email,
        email_verified=claims.get("email_verified") is True,
        name=str(claims.get("name") or email),
        tenant=tenant,
    )


async def _github_identity(name: str, client: Any, token: dict[str, Any]) -> ProviderIdentity:
    profile = (await client.get("user", token=token)).raise_for_status().json()
    emails = (await client.get("user/emails", token=token)).raise_for_status().json()
    verified = [e for e in emails if isinstance(e, dict) and e.get("verified") is True]
    primary = next((e for e in verified if e.get("primary")), verified[0] if verified else None)
    if primary is None:
        raise SignInFailed("GitHub did not confirm an e-mail address.")
    return ProviderIdentity(
        provider=name,
        subject=str(profile["id"]),
        email=str(primary["email"]),
        email_verified=True,
        name=str(profile.get("name") or profile["login"]),
    )
