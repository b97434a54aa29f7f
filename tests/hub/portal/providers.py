"""Local sign-in providers for tests: a real OIDC provider (oidc-provider-mock) that can
act as a multi-tenant Entra ID or hand out tampered tokens, and a GitHub OAuth stand-in.

Both are real HTTP servers on loopback; the portal talks to them over the network.
"""

from __future__ import annotations

import json
import secrets
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import flask
import httpx
import oidc_provider_mock
from joserfc import jwk, jwt
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

Wsgi = Callable[..., Any]


@contextmanager
def serve(app: Wsgi) -> Iterator[str]:
    """Serve a WSGI app on a free loopback port; yields its base URL."""
    server = make_server("localhost", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://localhost:{server.server_port}"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


@dataclass
class OidcProvider:
    """oidc-provider-mock behind a small WSGI layer.

    `entra=True` makes it look like Entra's multi-tenant endpoint: the discovery document
    names the issuer `<base>/{tenantid}/v2.0` and every ID token says `<base>/<tid>/v2.0`.
    `tamper` overrides claims of the next ID tokens (re-signed with the provider's key):
    a token for another audience, another nonce or another issuer.
    """

    entra: bool = False
    tamper: dict[str, Any] = field(default_factory=dict)
    base_url: str = ""

    def __post_init__(self) -> None:
        self.app = oidc_provider_mock.app()
        with self.app.test_request_context():
            self.app.preprocess_request()
            key = flask.g.oidc_provider_mock_storage.jwk.as_dict(is_private=True)
        self.key = jwk.import_key(key)

    def set_user(self, sub: str, **claims: Any) -> None:
        response = httpx.put(f"{self.base_url}/users/{sub}", json=claims)
        response.raise_for_status()

    def issuer_for(self, tenant: str) -> str:
        return f"{self.base_url}/{tenant}/v2.0"

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = Response.from_app(self.app, environ)
        if request.path == "/.well-known/openid-configuration" and self.entra:
            document = json.loads(response.get_data())
            document["issuer"] = f"{self.base_url}/{{tenantid}}/v2.0"
            response.set_data(json.dumps(document))
        elif request.path == "/oauth2/token" and response.status_code == 200:
            body = json.loads(response.get_data())
            if "id_token" in body:
                body["id_token"] = self._reissue(body["id_token"])
                response.set_data(json.dumps(body))
        return response(environ, start_response)

    def _reissue(self, id_token: str) -> str:
        token = jwt.decode(id_token, self.key)
        claims = dict(token.claims)
        if self.entra and "tid" in claims:
            claims["iss"] = self.issuer_for(str(claims["tid"]))
        claims.update(self.tamper)
        return jwt.encode(dict(token.header), claims, self.key)


@contextmanager
def oidc_provider(*, entra: bool = False) -> Iterator[OidcProvider]:
    provider = OidcProvider(entra=entra)
    with serve(provider) as base_url:
        provider.base_url = base_url
        yield provider


@dataclass
class GitHubStandIn:
    """GitHub's OAuth 2 and the two API calls the portal makes (`/user`, `/user/emails`)."""

    base_url: str = ""
    #: The account the next person "signs in" as, and its e-mail addresses.
    profile: dict[str, Any] = field(default_factory=dict)
    emails: list[dict[str, Any]] = field(default_factory=list)
    codes: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=dict)
    tokens: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = field(default_factory=dict)

    def sign_in_as(self, user_id: int, login: str, emails: list[dict[str, Any]]) -> None:
        self.profile = {"id": user_id, "login": login, "name": login.title()}
        self.emails = emails

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        request = Request(environ)
        response = self._route(request)
        return response(environ, start_response)

    def _route(self, request: Request) -> Response:
        if request.path == "/login/oauth/authorize":
            code = secrets.token_urlsafe(12)
            self.codes[code] = (self.profile, self.emails)
            target = request.args["redirect_uri"]
            query = urlencode({"code": code, "state": request.args.get("state", "")})
            return Response(status=302, headers={"Location": f"{target}?{query}"})
        if request.path == "/login/oauth/access_token" and request.method == "POST":
            found = self.codes.pop(request.form.get("code", ""), None)
            if found is None:  # GitHub answers 200 with an error body
                return _json({"error": "bad_verification_code"})
            token = secrets.token_urlsafe(16)
            self.tokens[token] = found
            return _json({"access_token": token, "token_type": "bearer", "scope": "user:email"})
        owner = self.tokens.get(request.headers.get("Authorization", "").removeprefix("Bearer "))
        if owner is None:
            return _json({"message": "Bad credentials"}, status=401)
        if request.path == "/user":
            return _json(owner[0])
        if request.path == "/user/emails":
            return _json(owner[1])
        return _json({"message": "Not Found"}, status=404)


def _json(body: Any, status: int = 200) -> Response:
    return Response(json.dumps(body), status=status, content_type="application/json")


@contextmanager
def github_stand_in() -> Iterator[GitHubStandIn]:
    github = GitHubStandIn()
    with serve(github) as base_url:
        github.base_url = base_url
        yield github


def follow_to_callback(location: str) -> str:
    """The portal-relative callback path of a provider's redirect."""
    parsed = urlparse(location)
    assert parse_qs(parsed.query), location
    return f"{parsed.path}?{parsed.query}"
