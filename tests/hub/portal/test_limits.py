"""Abuse limits: password reset per address and per account (the same answer whether or
not the account exists), reset links hashed, short-lived and single-use, and request
limits per API token and per organisation (429 with Retry-After)."""

from __future__ import annotations

import re
from datetime import timedelta
from email import message_from_bytes, policy

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.audit.models import AuditEvent
from hub.portal.auth.models import LoginAttempt, PasswordResetToken
from hub.portal.security import sha256_hex
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import Inbox, PortalDb, portal_settings
from tests.hub.portal.factories import (
    csrf_from,
    make_member,
    make_org,
    make_token,
    new_address,
    unique,
)

pytestmark = pytest.mark.postgres


def _ask_reset(client: TestClient, email: str):  # type: ignore[no-untyped-def]
    token = csrf_from(client.get("/forgot-password").text)
    return client.post("/forgot-password", data={"email": email, "csrf_token": token})


def test_reset_answers_alike_and_mails_only_a_real_account(
    portal_db: PortalDb, smtp: tuple[Inbox, int]
) -> None:
    inbox, port = smtp
    portal = {"smtp": {"host": "127.0.0.1", "port": port}, "password_reset_minutes": 20}
    app = create_app(portal_settings(portal_db.app_url, portal=portal), engine=portal_db.app)
    member = make_member(portal_db.owner, make_org(portal_db.owner).org_id)
    nobody = f"{unique('nobody')}@example.com"
    client = TestClient(app, client=(new_address(), 5000))
    real, unknown = _ask_reset(client, member.email), _ask_reset(client, nobody)
    assert real.status_code == unknown.status_code == 200
    assert real.content == unknown.content  # byte for byte the same page
    mail = message_from_bytes(inbox.wait_for(1)[0], policy=policy.default)
    assert len(inbox.messages) == 1 and mail["To"] == member.email
    token = re.search(r"/reset-password/(\S+)", mail.get_content()).group(1)  # type: ignore[attr-defined,union-attr]
    with session_scope(portal_db.owner) as session:
        stored = session.scalars(
            select(PasswordResetToken).where(PasswordResetToken.user_id == member.user_id)
        ).one()
        kinds = session.scalars(
            select(LoginAttempt.kind).where(LoginAttempt.email.in_([member.email, nobody]))
        ).all()
    assert stored.token_hash == sha256_hex(token) and token not in stored.token_hash
    assert stored.expires_at - stored.created_at <= timedelta(minutes=20)
    assert kinds == ["reset", "reset"]  # both requests counted alike


def test_reset_is_limited_per_address_and_per_account(portal_db: PortalDb) -> None:
    portal = {"reset_rate_per_hour_ip": 3, "reset_rate_per_hour_account": 2}
    app = create_app(portal_settings(portal_db.app_url, portal=portal), engine=portal_db.app)
    one_address = TestClient(app, client=(new_address(), 5000))
    statuses = [_ask_reset(one_address, f"{unique('x')}@example.com").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    target = f"{unique('victim')}@example.com"
    per_account = [
        _ask_reset(TestClient(app, client=(new_address(), 5000)), target) for _ in range(3)
    ]
    assert [r.status_code for r in per_account] == [200, 200, 429]
    assert per_account[-1].headers["retry-after"] == "3600"
    assert "Too many attempts" in per_account[-1].text
    with session_scope(portal_db.owner) as session:
        blocked = session.scalars(
            select(AuditEvent.outcome).where(
                AuditEvent.action == "auth.password_reset_requested",
                AuditEvent.actor_email == target,
            )
        ).all()
    assert blocked == ["blocked"]


def test_api_requests_are_limited_per_token_and_per_org(portal_db: PortalDb) -> None:
    portal = {"api_rate_per_token": "3/minute", "api_rate_per_org": "5/minute"}
    app = create_app(portal_settings(portal_db.app_url, portal=portal), engine=portal_db.app)
    org = make_org(portal_db.owner)
    first = make_token(portal_db.owner, make_member(portal_db.owner, org.org_id, Role.viewer))
    second = make_token(portal_db.owner, make_member(portal_db.owner, org.org_id, Role.viewer))
    client = TestClient(app)
    url = f"/api/v1/orgs/{org.org_id}/stations"

    def get(secret: str):  # type: ignore[no-untyped-def]
        return client.get(url, headers={"Authorization": f"Bearer {secret}"})

    assert [get(first).status_code for _ in range(4)] == [200, 200, 200, 429]
    limited = get(first)
    assert limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60
    # The second token has its own budget, until the org's is spent (3 + 2 = 5).
    answers = [get(second) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert "this organisation" in answers[-1].json()["error"]["message"]
    other = make_org(portal_db.owner)
    other_token = make_token(portal_db.owner, make_member(portal_db.owner, other.org_id))
    answer = client.get(
        f"/api/v1/orgs/{other.org_id}/stations", headers={"Authorization": f"Bearer {other_token}"}
    )
    assert answer.status_code == 200  # another org is not affected
