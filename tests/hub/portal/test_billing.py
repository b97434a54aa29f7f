"""Billing against localstripe (a stateful local Stripe) and a local fake for Checkout.

Never the real API: every Stripe call goes to a server on loopback.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from hub.db.models import Organization
from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.billing.models import BillingAccount
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.server import serve
from tests.support.services import free_port, wait_for_port

pytestmark = pytest.mark.postgres

WEBHOOK_SECRET = "whsec_test_portal_webhooks"
STANDARD_PRICE = "standard-monthly"


@pytest.fixture(scope="module")
def localstripe() -> Iterator[str]:
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        wait_for_port(port, timeout=20)
        yield f"http://localhost:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def _stripe_settings(api_base: str) -> dict[str, Any]:
    return {
        "api_key": "sk_test_portal",
        "webhook_secret": WEBHOOK_SECRET,
        "api_base": api_base,
        "prices": {"standard": STANDARD_PRICE},
    }


def test_subscription_webhook_from_localstripe_upgrades_the_plan(
    portal_db: PortalDb, localstripe: str
) -> None:
    app = create_app(
        portal_settings(portal_db.app_url, portal={"stripe": _stripe_settings(localstripe)}),
        engine=portal_db.app,
    )
    org = make_org(portal_db.owner)
    client = stripe.StripeClient("sk_test_portal", base_addresses={"api": localstripe})
    with serve(app) as base_url:
        httpx.post(
            f"{localstripe}/_config/webhooks/portal",
            data={"url": f"{base_url}/api/v1/billing/stripe-webhook", "secret": WEBHOOK_SECRET},
        ).raise_for_status()
        card = client.v1.tokens.create(
            params={"card": {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030,
                             "cvc": "123"}}
        )  # fmt: skip
        customer = client.v1.customers.create(
            params={"metadata": {"org_id": org.org_id}, "source": card.id}
        )
        client.v1.plans.create(
            params={"id": STANDARD_PRICE, "amount": 50000, "currency": "usd",
                    "interval": "month", "product": {"name": "Standard"}}
        )  # fmt: skip
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"plan": STANDARD_PRICE}],
                    "metadata": {"org_id": org.org_id}}
        )  # fmt: skip
        deadline = time.monotonic() + 15
        plan = "trial"
        while time.monotonic() < deadline and plan != "standard":
            time.sleep(0.3)
            with session_scope(portal_db.owner) as session:
                plan = session.get(Organization, org.org_id).plan  # type: ignore[union-attr]
    assert plan == "standard"
    with session_scope(portal_db.owner) as session:
        account = session.get(BillingAccount, org.org_id)
        assert account is not None and account.stripe_customer_id == customer.id
        assert account.status == "active"


def test_webhook_with_a_bad_signature_is_refused(portal_db: PortalDb) -> None:
    app = create_app(
        portal_settings(portal_db.app_url, portal={"stripe": _stripe_settings("http://x")}),
        engine=portal_db.app,
    )
    org = make_org(portal_db.owner)
    event = {
        "id": "evt_forged", "type": "customer.subscription.updated",
        "data": {"object": {"id": "sub_x", "status": "active", "metadata": {"org_id": org.org_id},
                            "items": {"data": [{"plan": {"id": STANDARD_PRICE}}]}}},
    }  # fmt: skip
    response = TestClient(app).post(
        "/api/v1/billing/stripe-webhook", content=json.dumps(event),
        headers={"stripe-signature": f"t={int(time.time())},v1={'0' * 64}"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    with session_scope(portal_db.owner) as session:
        assert session.get(Organization, org.org_id).plan == "trial"  # type: ignore[union-attr]


def _fake_stripe() -> tuple[FastAPI, list[tuple[str, dict[str, Any]]]]:
    """Checkout and the billing portal are not in localstripe: a small local fake answers."""
    calls: list[tuple[str, dict[str, Any]]] = []
    fake = FastAPI()

    @fake.post("/v1/{resource:path}")
    async def create(resource: str, request: Request) -> dict[str, Any]:
        form = dict((await request.form()).multi_items())
        calls.append((resource, form))
        prefix = {"customers": "cus", "checkout/sessions": "cs", "billing_portal/sessions": "bps"}
        object_id = f"{prefix[resource]}_{len(calls)}"
        return {"id": object_id, "object": resource, "url": f"https://pay.example/{object_id}"}

    return fake, calls


def test_owner_starts_checkout_and_opens_the_billing_portal(portal_db: PortalDb) -> None:
    fake, calls = _fake_stripe()
    with serve(fake) as stripe_url:
        app = create_app(
            portal_settings(portal_db.app_url, portal={"stripe": _stripe_settings(stripe_url)}),
            engine=portal_db.app,
        )
        org = make_org(portal_db.owner)
        owner = make_member(portal_db.owner, org.org_id, Role.owner)
        browser = Browser(app).login(owner.email)
        checkout = browser.api(
            "POST", f"/api/v1/orgs/{org.org_id}/billing/checkout", json={"plan": "standard"}
        )
        assert checkout.status_code == 200, checkout.text
        assert checkout.json()["url"].startswith("https://pay.example/cs_")
        portal = browser.api("POST", f"/api/v1/orgs/{org.org_id}/billing/portal")
        assert portal.json()["url"].startswith("https://pay.example/bps_")
    resources = [resource for resource, _ in calls]
    assert resources == ["customers", "checkout/sessions", "billing_portal/sessions"]
    session_params = calls[1][1]
    assert session_params["client_reference_id"] == org.org_id
    assert session_params["subscription_data[metadata][org_id]"] == org.org_id
    assert session_params["line_items[0][price]"] == STANDARD_PRICE


def test_plan_limits_are_enforced(portal_app: FastAPI, portal_db: PortalDb) -> None:
    org = make_org(portal_db.owner, stations=5)  # the trial plan's limit
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    browser = Browser(portal_app).login(admin.email)
    refused = browser.api(
        "POST", f"/api/v1/orgs/{org.org_id}/stations", json={"id": "SIXTH", "name": "Sixth"}
    )
    assert refused.status_code == 402
    assert refused.json()["error"]["code"] == "plan_limit"
