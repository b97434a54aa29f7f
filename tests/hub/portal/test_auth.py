"""Password sign-in, session cookies, CSRF, lockout, rate limit, sign-out, security headers."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from hub.db.base import utc_now
from hub.db.models import Station
from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.audit.models import AuditEvent
from hub.portal.auth.models import LoginAttempt, User, UserSession
from hub.portal.security import sha256_hex
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import (
    PASSWORD,
    Browser,
    csrf_from,
    make_member,
    make_org,
    make_token,
    new_address,
)

pytestmark = pytest.mark.postgres


def _post_login(client: TestClient, email: str, password: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "csrf_token": token},
        follow_redirects=False,
    )


def test_sign_in_sets_a_hardened_eight_hour_session_cookie(
    any_portal_app: FastAPI, any_portal_db: PortalDb
) -> None:
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id, Role.operator)
    client = TestClient(any_portal_app)
    response = _post_login(client, member.email, PASSWORD)
    assert response.status_code == 303
    cookie = response.headers["set-cookie"]
    assert "altaviz_session=" in cookie and "HttpOnly" in cookie
    assert "SameSite=lax" in cookie and "Max-Age=28800" in cookie
    assert "Secure" not in cookie  # development mode: plain http on localhost
    home = client.get("/", follow_redirects=False)
    assert home.headers["location"] == f"/o/{org.org_id}/fleet"
    with session_scope(any_portal_db.owner) as session:
        stored = session.scalars(select(UserSession).where(UserSession.user_id == member.user_id))
        record = stored.one()
        token = cookie.split("altaviz_session=")[1].split(";")[0]
        assert record.token_hash == sha256_hex(token)  # only the hash is stored
        assert timedelta(hours=7.9) < record.expires_at - record.created_at <= timedelta(hours=8)


def test_secure_cookies_and_hsts_outside_development(any_portal_db: PortalDb) -> None:
    settings = portal_settings(
        any_portal_db.app_url, development=False, portal={"secret_key": "x" * 40}
    )
    app = create_app(settings, engine=any_portal_db.app)
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id)
    client = TestClient(app, base_url="https://testserver")
    response = _post_login(client, member.email, PASSWORD)
    assert "Secure" in response.headers["set-cookie"]
    assert "max-age=" in response.headers["strict-transport-security"]


def test_security_headers_and_error_shape(any_portal_app: FastAPI) -> None:
    client = TestClient(any_portal_app)
    page = client.get("/login")
    csp = page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert "frame-ancestors 'none'" in csp
    assert page.headers["x-content-type-options"] == "nosniff"
    assert "strict-transport-security" not in page.headers  # development
    assert "<script>" not in page.text and "style=" not in page.text
    missing = client.get("/api/v1/orgs/nope/stations")
    assert missing.status_code == 401
    body = missing.json()
    assert set(body) == {"error"}
    assert body["error"]["code"] == "not_authenticated"
    assert body["error"]["request_id"] == missing.headers["x-request-id"]
    invalid = client.get("/api/v1/orgs/bad%20id/stations")
    assert invalid.json()["error"]["request_id"]


def test_wrong_password_is_refused_and_audited(
    any_portal_app: FastAPI, any_portal_db: PortalDb
) -> None:
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id)
    client = TestClient(any_portal_app)
    response = _post_login(client, member.email, "not the password")
    assert response.status_code == 401
    assert "Wrong e-mail or password" in response.text
    with session_scope(any_portal_db.owner) as session:
        outcomes = session.scalars(
            select(AuditEvent.outcome).where(
                AuditEvent.action == "auth.login", AuditEvent.actor_email == member.email
            )
        ).all()
    assert outcomes == ["failure"]


def test_lockout_after_repeated_failures(any_portal_app: FastAPI, any_portal_db: PortalDb) -> None:
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id)
    # Different client addresses, so this is the per-account lockout, not the address limit.
    for i in range(5):
        client = TestClient(any_portal_app, client=(f"10.0.0.{i}", 5000))
        assert _post_login(client, member.email, "wrong-password").status_code == 401
    client = TestClient(any_portal_app, client=("10.0.1.1", 5000))
    locked = _post_login(client, member.email, PASSWORD)
    assert locked.status_code == 429
    assert "locked" in locked.text


def test_rate_limit_per_client_address(any_portal_db: PortalDb) -> None:
    app = create_app(
        portal_settings(any_portal_db.app_url, portal={"login_rate_per_minute": 3}),
        engine=any_portal_db.app,
    )
    client = TestClient(app, client=("10.9.9.9", 5000))
    statuses = [_post_login(client, f"nobody{i}@example.com", "x").status_code for i in range(4)]
    assert statuses == [401, 401, 401, 429]


def test_forms_and_cookie_api_writes_need_the_csrf_token(
    any_portal_app: FastAPI, any_portal_db: PortalDb
) -> None:
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id, Role.admin)
    # Sign-in form without the double-submit token.
    anonymous = TestClient(any_portal_app)
    refused = anonymous.post("/login", data={"email": member.email, "password": PASSWORD})
    assert refused.status_code == 403
    browser = Browser(any_portal_app).login(member.email)
    url = f"/api/v1/orgs/{org.org_id}/tokens"
    assert browser.client.post(url, json={"name": "x"}).status_code == 403
    assert browser.api("POST", url, json={"name": "x"}).status_code == 201
    form = browser.client.post(f"/o/{org.org_id}/settings/tokens", data={"name": "y"})
    assert form.status_code == 403


def test_sign_out_ends_the_session_server_side(
    any_portal_app: FastAPI, any_portal_db: PortalDb
) -> None:
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id)
    browser = Browser(any_portal_app).login(member.email)
    cookie = browser.client.cookies.get("altaviz_session")
    out = browser.client.post("/logout", data={"csrf_token": browser.csrf}, follow_redirects=False)
    assert out.status_code == 303
    replay = TestClient(any_portal_app, cookies={"altaviz_session": cookie or ""})
    assert replay.get(f"/api/v1/orgs/{org.org_id}").status_code == 401


def test_expired_session_is_refused(any_portal_app: FastAPI, any_portal_db: PortalDb) -> None:
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id)
    browser = Browser(any_portal_app).login(member.email)
    assert browser.client.get(f"/api/v1/orgs/{org.org_id}").status_code == 200
    with session_scope(any_portal_db.owner) as session:
        session.execute(
            update(UserSession)
            .where(UserSession.user_id == member.user_id)
            .values(expires_at=utc_now() - timedelta(seconds=1))
        )
    assert browser.client.get(f"/api/v1/orgs/{org.org_id}").status_code == 401
    page = browser.client.get(f"/o/{org.org_id}/settings/team", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"].startswith("/login")


def test_passwords_are_stored_as_argon2(any_portal_db: PortalDb) -> None:
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id)
    with session_scope(any_portal_db.owner) as session:
        stored = session.scalar(select(User.password_hash).where(User.id == member.user_id))
    assert stored is not None and stored.startswith("$argon2id$") and PASSWORD not in stored


def test_the_same_user_signs_in_three_times_then_mistypes(
    any_portal_app: FastAPI, any_portal_db: PortalDb
) -> None:
    """Regression: on SQLite the second sign-in was a 500 (naive vs aware timestamps)."""
    org = make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id)
    address = (new_address(), 5000)
    for _ in range(3):
        client = TestClient(any_portal_app, raise_server_exceptions=False, client=address)
        response = _post_login(client, member.email, PASSWORD)
        assert response.status_code == 303, response.text[:300]
        assert client.get(f"/api/v1/orgs/{org.org_id}").status_code == 200
    client = TestClient(any_portal_app, raise_server_exceptions=False, client=address)
    wrong = _post_login(client, member.email, "not the password")
    assert wrong.status_code == 401 and "Wrong e-mail or password" in wrong.text
    with session_scope(any_portal_db.owner) as session:
        attempts = session.scalars(
            select(LoginAttempt.at).where(LoginAttempt.email == member.email)
        ).all()
    assert len(attempts) == 4 and all(at.tzinfo is not None for at in attempts)


def test_refused_credentials_are_audited_and_change_nothing(
    any_portal_app: FastAPI, any_portal_db: PortalDb
) -> None:
    org, other = make_org(any_portal_db.owner), make_org(any_portal_db.owner)
    member = make_member(any_portal_db.owner, org.org_id, Role.admin)
    token = make_token(any_portal_db.owner, member)
    client = TestClient(any_portal_app, raise_server_exceptions=False)
    bearer = {"Authorization": f"Bearer {token}"}
    # Another org's objects with a valid token: 404, and nothing created there.
    wrong_org = client.post(
        f"/api/v1/orgs/{other.org_id}/stations", json={"id": "X1", "name": "x"}, headers=bearer
    )
    assert wrong_org.status_code == 404 and wrong_org.json()["error"]["code"] == "not_found"
    forged = client.get(
        f"/api/v1/orgs/{org.org_id}", headers={"Authorization": "Bearer avz_forged-token-value"}
    )
    assert forged.status_code == 401 and "invalid, expired or revoked" in forged.text
    stale = TestClient(any_portal_app, cookies={"altaviz_session": "tampered-or-expired-value"})
    expired = stale.get(f"/api/v1/orgs/{org.org_id}")
    assert expired.status_code == 401 and "session has expired" in expired.text
    with session_scope(any_portal_db.owner) as session:
        actions = session.scalars(
            select(AuditEvent.action).where(
                AuditEvent.action.in_(
                    ["auth.token_wrong_org", "auth.token_refused", "auth.session_refused"]
                ),
                AuditEvent.outcome == "failure",
            )
        ).all()
        stations = session.scalars(select(Station.id).where(Station.org_id == other.org_id)).all()
    assert {"auth.token_wrong_org", "auth.token_refused", "auth.session_refused"} <= set(actions)
    assert "X1" not in stations
