"""Every plan gate for every plan, through the API and pages where they exist, and the
gate functions other packages call; then the org's standing: trial over, payment
failing past its grace, over a smaller plan's limits after a downgrade."""

from __future__ import annotations

from datetime import timedelta

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from hub.db.base import utc_now
from hub.db.models import Organization, Station
from hub.db.session import session_scope
from hub.portal.billing import gates
from hub.portal.billing.models import BillingAccount
from hub.portal.errors import PlanLimit
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import Browser, make_member, make_org, make_token

pytestmark = pytest.mark.postgres

#: What the product sells (the pricing page), written out, not read from the code.
EXPECTED = {
    "pilot": {
        "stations": 5, "members": 5, "api_tokens": 5, "retention_days": 90,
        "features": {"notifications"}, "channels": {"email"},
    },
    "operations": {
        "stations": 50, "members": 50, "api_tokens": 50, "retention_days": 730,
        "features": {"ml", "compliance", "notifications"},
        "channels": {"email", "sms", "teams", "slack", "webhook"},
    },
    "enterprise": {
        "stations": None, "members": None, "api_tokens": None, "retention_days": None,
        "features": {"ml", "compliance", "notifications", "sso"},
        "channels": {"email", "sms", "teams", "slack", "webhook", "pagerduty"},
    },
}  # fmt: skip
UNLIMITED_PROBE = 51  # "no limit": one past the largest limit of any other plan


def _fill(portal_db: PortalDb, org_id: str, what: str, count: int) -> None:
    owner = make_member(portal_db.owner, org_id, Role.owner, password=None)
    if what == "members":
        for _ in range(count - 1):  # the owner is one
            make_member(portal_db.owner, org_id, password=None)
    if what == "api_tokens":
        for _ in range(count):
            make_token(portal_db.owner, owner)


def _add(browser: Browser, org_id: str, what: str, n: int):  # type: ignore[no-untyped-def]
    base = f"/api/v1/orgs/{org_id}"
    if what == "stations":
        return browser.api("POST", f"{base}/stations", json={"id": f"NEW-{n}", "name": "New"})
    if what == "members":
        return browser.api("POST", f"{base}/invitations", json={"email": f"new{n}@example.com"})
    return browser.api("POST", f"{base}/tokens", json={"name": f"token {n}"})


@pytest.mark.parametrize("plan", list(EXPECTED))
@pytest.mark.parametrize("what", ["stations", "members", "api_tokens"])
def test_limits_of_every_plan(
    portal_app: FastAPI, portal_db: PortalDb, plan: str, what: str
) -> None:
    limit = EXPECTED[plan][what]
    have = limit if isinstance(limit, int) else UNLIMITED_PROBE
    org = make_org(
        portal_db.owner, plan=plan, stations=have if what == "stations" else 1,
        compressors_per_station=0,
    )  # fmt: skip
    _fill(portal_db, org.org_id, what, have if what != "stations" else 0)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    if what == "members":  # the admin who signs in is one more member
        with session_scope(portal_db.owner) as session:
            assert gates.usage(session=session, org_id=org.org_id)["members"] == have + 1
    browser = Browser(portal_app).login(admin.email)
    answer = _add(browser, org.org_id, what, 1)
    if limit is None:
        assert answer.status_code == 201, answer.text
    else:
        assert answer.status_code == 402, answer.text
        error = answer.json()["error"]
        assert error["code"] == "plan_limit" and f"includes {limit}" in error["message"]


@pytest.mark.parametrize("plan", list(EXPECTED))
def test_features_channels_and_retention_of_every_plan(
    portal_app: FastAPI, portal_db: PortalDb, plan: str
) -> None:
    expected = EXPECTED[plan]
    org = make_org(portal_db.owner, plan=plan, stations=1, compressors_per_station=1)
    viewer = make_member(portal_db.owner, org.org_id, Role.viewer)
    browser = Browser(portal_app).login(viewer.email)
    # ML: model rollout (API and page) and predictions (RUL, drift).
    ml = "ml" in expected["features"]
    unit = org.compressor_ids[0]
    for path in (
        f"/api/v1/orgs/{org.org_id}/models/versions",
        f"/api/v1/orgs/{org.org_id}/compressors/{unit}/predictions",
        f"/o/{org.org_id}/models",
    ):
        status = browser.client.get(path).status_code
        assert status == (200 if ml else 402), (plan, path, status)
    page = browser.client.get(f"/o/{org.org_id}/compressors/{unit}").text
    assert ("data-predictions-url" in page) == ml and ("not in the plan" in page) != ml
    with session_scope(portal_db.owner) as session:
        for feature in ("ml", "compliance", "notifications", "sso"):
            if feature in expected["features"]:
                gates.require_feature(org.org_id, feature, session=session)
                org_row = session.get(Organization, org.org_id)
                gates.require_feature(org_row, feature)  # type: ignore[arg-type]
            else:
                with pytest.raises(PlanLimit, match="does not include"):
                    gates.require_feature(org.org_id, feature, session=session)
        for channel in ("email", "sms", "teams", "slack", "webhook", "pagerduty"):
            if channel in expected["channels"]:
                gates.require_channel(session=session, org_id=org.org_id, channel=channel)
            else:
                with pytest.raises(PlanLimit):
                    gates.require_channel(session=session, org_id=org.org_id, channel=channel)
        days = gates.retention_days(session=session, org_id=org.org_id)
        assert days == expected["retention_days"]
    billing = browser.client.get(f"/api/v1/orgs/{org.org_id}/billing")
    assert billing.status_code == 403  # viewers do not see billing; owners do (below)


def _set_account(portal_db: PortalDb, org_id: str, **fields: object) -> None:
    with session_scope(portal_db.owner, org_id=org_id) as session:
        account = session.get(BillingAccount, org_id) or BillingAccount(org_id=org_id)
        for key, value in {"status": "none", **fields}.items():
            setattr(account, key, value)
        session.merge(account)


def test_trial_ends_on_its_date_then_read_only_but_payable(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="pilot", stations=1)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    browser = Browser(portal_app).login(owner.email)
    _set_account(portal_db, org.org_id, trial_ends_at=utc_now() + timedelta(days=1))
    assert browser.api("POST", f"/api/v1/orgs/{org.org_id}/stations",
                       json={"id": "IN-TRIAL", "name": "x"}).status_code == 201  # fmt: skip
    info = browser.client.get(f"/api/v1/orgs/{org.org_id}/billing").json()
    assert info["standing"] == "trialing" and info["standing_until"]
    _set_account(portal_db, org.org_id, trial_ends_at=utc_now() - timedelta(minutes=1))
    refused = browser.api(
        "POST", f"/api/v1/orgs/{org.org_id}/stations", json={"id": "AFTER", "name": "x"}
    )
    assert refused.status_code == 402 and refused.json()["error"]["code"] == "read_only"
    assert browser.client.get(f"/api/v1/orgs/{org.org_id}/stations").status_code == 200
    page = browser.client.get(f"/o/{org.org_id}/settings/billing")
    assert page.status_code == 200 and "Read-only" in page.text
    with session_scope(portal_db.owner) as session:  # nothing was deleted
        stations = session.scalars(select(Station.id).where(Station.org_id == org.org_id)).all()
    assert len(stations) == 2


def test_failed_payment_has_a_grace_period_then_read_only(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="operations", stations=1)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    browser = Browser(portal_app).login(owner.email)
    _set_account(portal_db, org.org_id, status="past_due", past_due_since=utc_now())
    url = f"/api/v1/orgs/{org.org_id}/stations"
    assert browser.api("POST", url, json={"id": "GRACE", "name": "x"}).status_code == 201
    assert browser.client.get(f"/api/v1/orgs/{org.org_id}/billing").json()["standing"] == "grace"
    _set_account(
        portal_db, org.org_id, status="past_due", past_due_since=utc_now() - timedelta(days=15)
    )
    assert browser.api("POST", url, json={"id": "LATE", "name": "x"}).status_code == 402
    models = browser.client.get(f"/api/v1/orgs/{org.org_id}/models/versions")
    assert models.status_code == 402 and models.json()["error"]["code"] == "read_only"


def test_after_a_downgrade_stations_over_the_limit_become_read_only_after_grace(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="pilot", stations=7, compressors_per_station=0)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    browser = Browser(portal_app).login(admin.email)
    _set_account(portal_db, org.org_id, status="active", over_limit_since=utc_now())
    first, last = org.station_ids[0], org.station_ids[-1]
    url = f"/api/v1/orgs/{org.org_id}/stations"
    assert browser.api("PATCH", f"{url}/{last}", json={"name": "In grace"}).status_code == 200
    _set_account(
        portal_db, org.org_id, status="active", over_limit_since=utc_now() - timedelta(days=15)
    )
    refused = browser.api("PATCH", f"{url}/{last}", json={"name": "Over"})
    assert refused.status_code == 402 and "read-only" in refused.json()["error"]["message"]
    assert browser.api("PATCH", f"{url}/{first}", json={"name": "Kept"}).status_code == 200
    assert browser.api("DELETE", f"{url}/{last}").status_code == 204  # back under, by choice
    assert browser.client.get(f"{url}/{last}").status_code == 404


def test_after_a_downgrade_members_and_tokens_over_the_limit_can_only_read(
    portal_app: FastAPI, portal_db: PortalDb
) -> None:
    org = make_org(portal_db.owner, plan="operations", stations=1, compressors_per_station=0)
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    tokens = [make_token(portal_db.owner, owner) for _ in range(6)]  # Pilot: 5
    for _ in range(4):
        make_member(portal_db.owner, org.org_id, password=None)
    newest = make_member(portal_db.owner, org.org_id, Role.admin)  # the 6th member
    with session_scope(portal_db.owner) as session:  # downgraded to Pilot
        session.get(Organization, org.org_id).plan = "pilot"  # type: ignore[union-attr]
    _set_account(
        portal_db, org.org_id, status="active", over_limit_since=utc_now() - timedelta(days=15)
    )
    url = f"/api/v1/orgs/{org.org_id}/stations/{org.station_ids[0]}"

    def patch(secret: str):  # type: ignore[no-untyped-def]
        return Browser(portal_app).client.patch(
            url, json={"name": "Renamed"}, headers={"Authorization": f"Bearer {secret}"}
        )

    assert patch(tokens[0]).status_code == 200  # within the 5 oldest tokens
    refused = patch(tokens[-1])
    assert refused.status_code == 402 and "can only read" in refused.json()["error"]["message"]
    newest_browser = Browser(portal_app).login(newest.email)
    assert newest_browser.client.get(url).status_code == 200  # reads keep working
    member_refused = newest_browser.api("PATCH", url, json={"name": "Again"})
    assert member_refused.status_code == 402 and "read-only" in member_refused.text
    owner_browser = Browser(portal_app).login(owner.email)
    assert owner_browser.api("PATCH", url, json={"name": "By the owner"}).status_code == 200
