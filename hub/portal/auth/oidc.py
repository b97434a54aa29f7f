"""Sign-in through GitHub, Google, Microsoft or any OIDC provider, with Authlib.

Providers come from settings (`portal.oidc`); one with an empty client id is not offered.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from authlib.integrations.starlette_client import OAuth, OAuthError
from starlette.requests import Request

from hub.portal.errors import NotAuthenticated, NotFound
from hub.settings import OidcProviderSettings, PortalSettings

GITHUB = {
    "authorize_url": "https://github.com/login/oauth/authorize",
    "access_token_url": "https://github.com/login/oauth/access_token",
    "api_base_url": "https://api.github.com/",
}


@dataclass(frozen=True)
class ProviderIdentity:
    subject: str
    email: str
    name: str


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
            oauth.register(**common, **GITHUB)
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


async def identity_from_callback(
    request: Request, oauth: OAuth, name: str, provider: OidcProviderSettings
) -> ProviderIdentity:
    """Exchange the code and read a verified e-mail address from the provider."""
    client = client_for(oauth, name)
    try:
        token = await client.authorize_access_token(request)
    except OAuthError as exc:
        raise NotAuthenticated(f"Sign-in with {provider.display_name} failed.") from exc
    if provider.kind == "github":
        return await _github_identity(client, token)
    claims = token.get("userinfo") or await client.userinfo(token=token)
    email = str(claims.get("email") or "")
    if not email or claims.get("email_verified") is False:
        raise NotAuthenticated(f"{provider.display_name} did not confirm an e-mail address.")
    return ProviderIdentity(
        subject=str(claims["sub"]), email=email, name=str(claims.get("name") or email)
    )


async def _github_identity(client: Any, token: dict[str, Any]) -> ProviderIdentity:
    profile = (await client.get("user", token=token)).json()
    emails = (await client.get("user/emails", token=token)).json()
    primary = next((e["email"] for e in emails if e.get("primary") and e.get("verified")), None)
    if not primary:
        raise NotAuthenticated("GitHub did not confirm an e-mail address.")
    return ProviderIdentity(
        subject=str(profile["id"]), email=primary, name=profile.get("name") or profile["login"]
    )
