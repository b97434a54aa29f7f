"""Invitations, password reset by e-mail, API tokens."""

from __future__ import annotations

import re
import time
from email import message_from_bytes, policy

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.orgs.models import Membership
from hub.portal.security import sha256_hex
from hub.portal.tenancy import Role
from hub.portal.tokens.models import ApiToken
from tests.hub.portal.conftest import Inbox, PortalDb, portal_settings
from tests.hub.portal.factories import PASSWORD, Browser, csrf_from, make_member, make_org

pytestmark = pytest.mark.postgres


# -- invitations ---------------------------------------------------------------------------


def test_invitation_never_moves_a_user_out_of_another_org(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org_a = make_org(portal_db.owner)
    org_b = make_org(portal_db.owner)
    admin_a = make_member(portal_db.owner, org_a.org_id, Role.admin)
    bob = make_member(portal_db.owner, org_b.org_id, Role.owner)
    inviter = Browser(portal_app).login(admin_a.email)
    created = inviter.api(
        "POST", f"/api/v1/orgs/{org_a.org_id}/invitations",
        json={"email": bob.email.upper(), "role": "viewer"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    link = created.json()["accept_url"].replace("http://127.0.0.1:8000", "")

    # Someone else cannot use it.
    mallory = make_member(portal_db.owner, org_a.org_id, Role.viewer)
    other = Browser(portal_app).login(mallory.email)
    refused = other.client.post(f"{link}/accept", data={"csrf_token": other.csrf})
    assert refused.status_code == 403

    invitee = Browser(portal_app).login(bob.email)
    page = invitee.client.get(link)
    assert "Joining keeps every organisation" in page.text
    accepted = invitee.client.post(
        f"{link}/accept", data={"csrf_token": invitee.csrf}, follow_redirects=False
    )
    assert accepted.status_code == 303
    roles = {o["id"]: o["role"] for o in invitee.api("GET", "/api/v1/me").json()}
    assert roles == {org_a.org_id: "viewer", org_b.org_id: "owner"}
    # A used invitation cannot be replayed.
    assert (
        invitee.client.post(f"{link}/accept", data={"csrf_token": invitee.csrf}).status_code == 422
    )


def test_invitation_for_a_new_person_creates_their_account(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    inviter = Browser(portal_app).login(admin.email)
    email = f"new-{time.time_ns()}@example.com"
    link = (
        inviter.api(
            "POST",
            f"/api/v1/orgs/{org.org_id}/invitations",
            json={"email": email, "role": "operator"},
        )
        .json()["accept_url"]
        .replace("http://127.0.0.1:8000", "")
    )
    client = TestClient(portal_app)
    page = client.get(link)
    done = client.post(
        f"{link}/register",
        data={"name": "New Person", "password": PASSWORD, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert [(o["id"], o["role"]) for o in client.get("/api/v1/me").json()] == [
        (org.org_id, "operator")
    ]


def test_admins_cannot_create_owners(portal_app: FastAPI, portal_db: PortalDb) -> None:
    org = make_org(portal_db.owner)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    browser = Browser(portal_app).login(admin.email)
    invite = browser.api(
        "POST", f"/api/v1/orgs/{org.org_id}/invitations",
        json={"email": "boss@example.com", "role": "owner"},
    )  # fmt: skip
    assert invite.status_code == 403
    demote = browser.api(
        "PATCH", f"/api/v1/orgs/{org.org_id}/members/{owner.user_id}", json={"role": "viewer"}
    )
    assert demote.status_code == 403
    sole = Browser(portal_app).login(owner.email)
    last = sole.api(
        "PATCH", f"/api/v1/orgs/{org.org_id}/members/{owner.user_id}", json={"role": "admin"}
    )
    assert last.status_code == 409  # an org keeps at least one owner


# -- password reset by e-mail ------------------------------------------------------------------


def test_password_reset_by_emailed_link(portal_db: PortalDb, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    app = create_app(
        portal_settings(portal_db.app_url, portal={"smtp": {"host": "127.0.0.1", "port": port}}),
        engine=portal_db.app,
    )
    org = make_org(portal_db.owner)
    member = make_member(portal_db.owner, org.org_id)
    signed_in = Browser(app).login(member.email)
    client = TestClient(app)
    form = client.get("/forgot-password")
    for email in (member.email, "nobody@example.com"):
        sent = client.post(
            "/forgot-password", data={"email": email, "csrf_token": csrf_from(form.text)}
        )
        assert "If an account uses that address" in sent.text  # same answer either way
    assert len(inbox.messages) == 1
    mail = message_from_bytes(inbox.messages[0], policy=policy.default)
    assert mail["To"] == member.email
    body = mail.get_content()  # type: ignore[attr-defined]
    link = re.search(r"http://127\.0\.0\.1:8000(/reset-password/\S+)", body).group(1)  # type: ignore[union-attr]
    page = client.get(link)
    new_password = "a-brand-new-password"
    done = client.post(
        link, data={"password": new_password, "csrf_token": csrf_from(page.text)},
        follow_redirects=False,
    )  # fmt: skip
    assert done.status_code == 303
    assert client.get(link).status_code == 400  # single use
    # Old sessions end; the new password works, the old one does not.
    assert signed_in.client.get(f"/api/v1/orgs/{org.org_id}").status_code == 401
    Browser(app).login(member.email, new_password)
    with pytest.raises(AssertionError):
        Browser(app).login(member.email, PASSWORD)


# -- API tokens --------------------------------------------------------------------------------


def test_api_tokens_are_hashed_scoped_and_revocable(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner)
    other = make_org(portal_db.owner)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    make_member(portal_db.owner, other.org_id, Role.owner, email=admin.email)
    browser = Browser(portal_app).login(admin.email)
    created = browser.api("POST", f"/api/v1/orgs/{org.org_id}/tokens", json={"name": "scada"})
    secret, token_id = created.json()["token"], created.json()["id"]
    with session_scope(portal_db.owner) as session:
        stored = session.scalars(select(ApiToken).where(ApiToken.id == token_id)).one()
        assert stored.token_hash == sha256_hex(secret) and secret not in repr(stored.__dict__)
    bearer = TestClient(portal_app, headers={"authorization": f"Bearer {secret}"})
    assert bearer.get(f"/api/v1/orgs/{org.org_id}/stations").status_code == 200
    # The same user is an owner elsewhere, but this token is for one org only.
    assert bearer.get(f"/api/v1/orgs/{other.org_id}/stations").status_code == 404
    assert [o["id"] for o in bearer.get("/api/v1/me").json()] == [org.org_id]
    revoked = browser.api("DELETE", f"/api/v1/orgs/{org.org_id}/tokens/{token_id}")
    assert revoked.json()["revoked_at"] is not None
    assert bearer.get(f"/api/v1/orgs/{org.org_id}/stations").status_code == 401
    with session_scope(portal_db.owner) as session:
        assert session.get(Membership, (org.org_id, admin.user_id)) is not None
