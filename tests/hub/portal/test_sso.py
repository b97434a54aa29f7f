"""Sign-in with GitHub (OAuth 2), Google and Microsoft Entra ID (OIDC), end to end against
real local providers: linking by (provider, subject), proof before an address is linked,
and every failure a page with a 4xx and an audit entry, never a 500."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.audit.models import AuditEvent
from hub.portal.auth.models import OAuthIdentity
from hub.portal.auth.oidc import entra_issuer
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import (
    PASSWORD,
    Browser,
    csrf_from,
    make_member,
    make_org,
    new_address,
)
from tests.hub.portal.providers import (
    GitHubStandIn,
    OidcProvider,
    follow_to_callback,
    github_stand_in,
    oidc_provider,
)
from tests.support.services import free_port

pytestmark = pytest.mark.postgres

TENANT_A, TENANT_B = str(uuid.uuid4()), str(uuid.uuid4())


@pytest.fixture(scope="module")
def google() -> Iterator[OidcProvider]:
    with oidc_provider() as provider:
        yield provider


@pytest.fixture(scope="module")
def entra() -> Iterator[OidcProvider]:
    with oidc_provider(entra=True) as provider:
        yield provider


@pytest.fixture(scope="module")
def github() -> Iterator[GitHubStandIn]:
    with github_stand_in() as stand_in:
        yield stand_in


def _providers(google: OidcProvider, entra: OidcProvider, github: GitHubStandIn) -> dict[str, Any]:
    secret = {"client_id": "altaviz-portal", "client_secret": "test-client-secret"}
    return {
        "google": {"kind": "oidc", "display_name": "Google", **secret,
                   "server_metadata_url": f"{google.base_url}/.well-known/openid-configuration"},
        "microsoft": {"kind": "entra", "display_name": "Microsoft", **secret,
                      "server_metadata_url": f"{entra.base_url}/.well-known/openid-configuration"},
        "microsoft_a": {"kind": "entra", "display_name": "Contoso", **secret,
                        "allowed_tenants": [TENANT_A],
                        "server_metadata_url": f"{entra.base_url}/.well-known/openid-configuration"},
        "github": {"kind": "github", "display_name": "GitHub", **secret,
                   "authorize_url": f"{github.base_url}/login/oauth/authorize",
                   "token_url": f"{github.base_url}/login/oauth/access_token",
                   "api_base_url": f"{github.base_url}/"},
        "down": {"kind": "oidc", "display_name": "Offline", **secret,
                 "server_metadata_url": f"http://127.0.0.1:{free_port()}/.well-known/x"},
    }  # fmt: skip


@pytest.fixture(scope="module")
def app(
    portal_db: PortalDb, google: OidcProvider, entra: OidcProvider, github: GitHubStandIn
) -> FastAPI:
    portal = {"base_url": "http://testserver", "oidc": _providers(google, entra, github)}
    return create_app(portal_settings(portal_db.app_url, portal=portal), engine=portal_db.app)


def _client(app: FastAPI) -> TestClient:
    return TestClient(app, raise_server_exceptions=False, client=(new_address(), 5000))


def _start(client: TestClient, provider: str) -> str:
    start = client.get(f"/auth/{provider}/login", follow_redirects=False)
    assert start.status_code == 302, start.text
    return str(start.headers["location"])


def _oidc_sign_in(client: TestClient, provider: str, sub: str) -> httpx.Response:
    consent = httpx.post(_start(client, provider), data={"sub": sub}, follow_redirects=False)
    assert consent.status_code == 302, consent.text
    return client.get(follow_to_callback(consent.headers["location"]), follow_redirects=False)


def _github_sign_in(client: TestClient) -> httpx.Response:
    authorize = httpx.get(_start(client, "github"), follow_redirects=False)
    return client.get(follow_to_callback(authorize.headers["location"]), follow_redirects=False)


def _sub() -> str:
    return f"sub-{uuid.uuid4().hex[:12]}"


def _audit_reasons(portal_db: PortalDb) -> list[str]:
    with session_scope(portal_db.owner) as session:
        rows = session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "auth.sso", AuditEvent.outcome == "failure"
            )
        ).all()
    return [str((row.detail or {}).get("reason")) for row in rows]


def test_google_sign_in_creates_an_account_and_finds_it_again(
    app: FastAPI, google: OidcProvider
) -> None:
    sub, email = _sub(), f"{uuid.uuid4().hex[:8]}@example.com"
    google.set_user(sub, email=email, email_verified=True, name="Dana Field")
    client = _client(app)
    assert "Google" in client.get("/login").text
    done = _oidc_sign_in(client, "google", sub)
    assert done.status_code == 303 and "altaviz_session=" in done.headers["set-cookie"]
    orgs = client.get("/api/v1/me").json()
    assert len(orgs) == 1 and orgs[0]["role"] == "owner"
    again = _client(app)
    assert _oidc_sign_in(again, "google", sub).status_code == 303
    assert again.get("/api/v1/me").json() == orgs


def test_provider_sign_in_and_linking_on_sqlite_the_demos_database(
    sqlite_portal_db: PortalDb, google: OidcProvider, entra: OidcProvider, github: GitHubStandIn
) -> None:
    portal = {"base_url": "http://testserver", "oidc": _providers(google, entra, github)}
    app = create_app(
        portal_settings(sqlite_portal_db.app_url, portal=portal), engine=sqlite_portal_db.app
    )
    sub = _sub()
    google.set_user(sub, email=f"{sub}@example.com", email_verified=True)
    for _ in range(2):  # a first and a second sign-in
        assert _oidc_sign_in(_client(app), "google", sub).status_code == 303
    org = make_org(sqlite_portal_db.owner)
    member = make_member(sqlite_portal_db.owner, org.org_id)
    other = _sub()
    google.set_user(other, email=member.email, email_verified=True)
    client = _client(app)
    page = _oidc_sign_in(client, "google", other)
    linked = client.post(
        "/auth/link/password", data={"password": PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert linked.status_code == 303
    assert [o["id"] for o in client.get("/api/v1/me").json()] == [org.org_id]


def test_a_provider_account_never_takes_over_an_account_by_email(
    app: FastAPI, portal_db: PortalDb, google: OidcProvider, entra: OidcProvider
) -> None:
    org = make_org(portal_db.owner)
    member = make_member(portal_db.owner, org.org_id, Role.operator)
    # Microsoft without email_verified (the usual case): refused, nothing linked.
    sub = _sub()
    entra.set_user(sub, email=member.email, tid=TENANT_A, name="Mallory")
    client = _client(app)
    refused = _oidc_sign_in(client, "microsoft", sub)
    assert refused.status_code == 409 and "did not confirm" in refused.text
    assert "altaviz_session" not in client.cookies
    # Verified by the provider, but still no session until the account's password is shown.
    google_sub = _sub()
    google.set_user(google_sub, email=member.email, email_verified=True)
    page = _oidc_sign_in(client, "google", google_sub)
    assert page.status_code == 200 and "show that the account is yours" in page.text
    assert client.get("/api/v1/me").status_code == 401
    token = csrf_from(page.text)
    wrong = client.post(
        "/auth/link/password", data={"password": "guess-guess", "csrf_token": token}
    )
    assert wrong.status_code == 401
    with session_scope(portal_db.owner) as session:
        links = session.scalars(select(OAuthIdentity.subject_key)).all()
    assert f"microsoft:{sub}" not in links and f"google:{google_sub}" not in links
    linked = client.post(
        "/auth/link/password", data={"password": PASSWORD, "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
    assert linked.status_code == 303
    assert [o["id"] for o in client.get("/api/v1/me").json()] == [org.org_id]
    # From now on the Google account signs straight in.
    assert _oidc_sign_in(_client(app), "google", google_sub).status_code == 303


def test_linking_by_mailed_link_works_only_in_the_browser_that_asked(
    portal_db: PortalDb, google: OidcProvider, entra: OidcProvider, github: GitHubStandIn, smtp: Any
) -> None:
    inbox, port = smtp
    portal = {"base_url": "http://testserver", "oidc": _providers(google, entra, github),
              "smtp": {"host": "127.0.0.1", "port": port}}  # fmt: skip
    app = create_app(portal_settings(portal_db.app_url, portal=portal), engine=portal_db.app)
    org = make_org(portal_db.owner)
    member = make_member(portal_db.owner, org.org_id)
    sub = _sub()
    google.set_user(sub, email=member.email, email_verified=True)
    client = _client(app)
    page = _oidc_sign_in(client, "google", sub)
    sent = client.post("/auth/link/email", data={"csrf_token": csrf_from(page.text)})
    assert sent.status_code == 200 and "Check your e-mail" in sent.text
    mail = message_from_bytes(inbox.wait_for(1)[0], policy=policy.default)
    assert mail["To"] == member.email
    link = re.search(r"http://testserver(/auth/link/\S+)", mail.get_content()).group(1)  # type: ignore[attr-defined,union-attr]
    elsewhere = _client(app).get(link, follow_redirects=False)
    assert elsewhere.status_code == 400  # another browser: the link alone links nothing
    assert client.get(link + "x", follow_redirects=False).status_code == 400  # tampered
    assert client.get(link, follow_redirects=False).status_code == 303
    assert [o["id"] for o in client.get("/api/v1/me").json()] == [org.org_id]
    assert client.get(link, follow_redirects=False).status_code == 400  # single use


def test_entra_multi_tenant_issuer_is_checked_against_the_tokens_tenant(
    app: FastAPI, entra: OidcProvider
) -> None:
    for tenant in (TENANT_A, TENANT_B):
        sub = _sub()
        entra.set_user(sub, email=f"{sub}@contoso.example", tid=tenant, name="Ann")
        assert _oidc_sign_in(_client(app), "microsoft", sub).status_code == 303
    # An org-restricted registration admits only its tenants.
    sub = _sub()
    entra.set_user(sub, email=f"{sub}@fabrikam.example", tid=TENANT_B)
    refused = _oidc_sign_in(_client(app), "microsoft_a", sub)
    assert refused.status_code == 400 and f"({TENANT_B}) may not sign in" in refused.text
    entra.set_user(sub, email=f"{sub}@fabrikam.example", tid=TENANT_A)
    assert _oidc_sign_in(_client(app), "microsoft_a", sub).status_code == 303
    # A token whose issuer names another tenant than its tid claim is refused.
    entra.tamper = {"iss": entra.issuer_for(TENANT_B), "tid": TENANT_A}
    try:
        forged = _oidc_sign_in(_client(app), "microsoft", _sub())
    finally:
        entra.tamper = {}
    assert forged.status_code == 400 and "(iss claim)" in forged.text
    assert entra_issuer("https://login.microsoftonline.com/{tenantid}/v2.0", TENANT_A).endswith(
        f"/{TENANT_A}/v2.0"
    )


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        ({"aud": "someone-else"}, "(aud claim)"),
        ({"nonce": "replayed-nonce"}, "(nonce claim)"),
        ({"iss": "https://evil.example"}, "(iss claim)"),
    ],
)
def test_tokens_for_another_audience_nonce_or_issuer_are_refused(
    app: FastAPI, portal_db: PortalDb, google: OidcProvider, tamper: dict[str, str], message: str
) -> None:
    sub = _sub()
    google.set_user(sub, email=f"{sub}@example.com", email_verified=True)
    google.tamper = tamper
    try:
        client = _client(app)
        refused = _oidc_sign_in(client, "google", sub)
    finally:
        google.tamper = {}
    assert refused.status_code == 400 and message in refused.text
    assert "altaviz_session" not in client.cookies
    assert any(message.strip("()") in reason for reason in _audit_reasons(portal_db))


def test_state_code_and_provider_failures_are_pages_not_errors(
    app: FastAPI, google: OidcProvider
) -> None:
    client = _client(app)
    authorize = _start(client, "google")
    state = re.search(r"state=([^&]+)", authorize).group(1)  # type: ignore[union-attr]
    mismatch = client.get("/auth/google/callback?code=abc&state=not-the-state")
    assert (
        mismatch.status_code == 400 and "expired or was opened in another browser" in mismatch.text
    )
    bad_code = client.get(f"/auth/google/callback?code=expired-code&state={state}")
    assert bad_code.status_code == 400 and "invalid or has expired" in bad_code.text
    # A tampered state cookie is no state at all.
    other = _client(app)
    _start(other, "google")
    other.cookies.set("altaviz_oauth", "forged" + str(other.cookies.get("altaviz_oauth"))[6:])
    assert other.get(f"/auth/google/callback?code=x&state={state}").status_code == 400
    denied = client.get("/auth/google/callback?error=access_denied")
    assert denied.status_code == 400 and "did not sign you in" in denied.text
    down = client.get("/auth/down/login")
    assert down.status_code == 400 and "cannot be reached" in down.text
    assert client.get("/auth/nope/login").status_code == 404


def test_github_sign_in_uses_a_verified_address(app: FastAPI, github: GitHubStandIn) -> None:
    user_id = uuid.uuid4().int % 10**9
    email = f"octo-{user_id}@example.com"
    github.sign_in_as(user_id, "octo", [
        {"email": f"unverified-{user_id}@example.com", "primary": True, "verified": False},
        {"email": email, "primary": False, "verified": True},
    ])  # fmt: skip
    client = _client(app)
    assert _github_sign_in(client).status_code == 303
    assert client.get("/api/v1/me").status_code == 200
    assert _github_sign_in(_client(app)).status_code == 303  # the same account again
    github.sign_in_as(user_id + 1, "ghost", [{"email": "x@example.com", "verified": False}])
    refused = _github_sign_in(_client(app))
    assert refused.status_code == 400 and "GitHub did not confirm" in refused.text


# -- organisation SSO ----------------------------------------------------------------------


def test_an_org_can_require_its_directory_and_admit_its_users_just_in_time(
    app: FastAPI, portal_db: PortalDb, entra: OidcProvider
) -> None:
    org = make_org(portal_db.owner, plan="enterprise", stations=1)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    owner_browser, admin_browser = Browser(app).login(owner.email), Browser(app).login(admin.email)
    setting = {"provider": "microsoft", "directory": TENANT_A, "required": True,
               "jit_role": "operator"}  # fmt: skip
    url = f"/api/v1/orgs/{org.org_id}/sso"
    assert owner_browser.api("PUT", url, json=setting).status_code == 200
    assert owner_browser.client.get(url).json() == setting
    stations = f"/api/v1/orgs/{org.org_id}/stations"
    # A password session no longer works in the org (owners keep a way in: break-glass).
    denied = admin_browser.client.get(stations)
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "sso_required"
    assert owner_browser.client.get(stations).status_code == 200
    # A user of the directory signs in through Microsoft: joins as operator, works there.
    sub = _sub()
    entra.set_user(sub, email=f"{sub}@contoso.example", tid=TENANT_A)
    member = _client(app)
    assert _oidc_sign_in(member, "microsoft", sub).status_code == 303
    roles = {o["id"]: o["role"] for o in member.get("/api/v1/me").json()}
    assert roles[org.org_id] == "operator"
    assert member.get(stations).status_code == 200
    # Another tenant's user does not join; removed from the directory, the member cannot
    # sign in through it any more, and nothing else opens the org to them.
    stranger = _sub()
    entra.set_user(stranger, email=f"{stranger}@fabrikam.example", tid=TENANT_B)
    outsider = _client(app)
    assert _oidc_sign_in(outsider, "microsoft", stranger).status_code == 303
    assert org.org_id not in {o["id"] for o in outsider.get("/api/v1/me").json()}
    with session_scope(portal_db.owner) as session:
        joined = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.org_id == org.org_id, AuditEvent.action == "member.jit_joined"
            )
        ).all()
    assert joined == ["member.jit_joined"]


def test_org_sso_needs_a_plan_with_sso_and_a_directory_provider(
    app: FastAPI, portal_db: PortalDb
) -> None:
    url_for = "/api/v1/orgs/{}/sso".format
    operations = make_org(portal_db.owner, plan="operations", stations=1)
    owner = make_member(portal_db.owner, operations.org_id, Role.owner)
    browser = Browser(app).login(owner.email)
    body = {"provider": "microsoft", "directory": TENANT_A, "required": True}
    refused = browser.api("PUT", url_for(operations.org_id), json=body)
    assert refused.status_code == 402 and "single sign-on" in refused.json()["error"]["message"]
    enterprise = make_org(portal_db.owner, plan="enterprise", stations=1)
    owner_e = make_member(portal_db.owner, enterprise.org_id, Role.owner)
    browser_e = Browser(app).login(owner_e.email)
    github = browser_e.api("PUT", url_for(enterprise.org_id), json={**body, "provider": "github"})
    assert github.status_code == 422
