"""Billing against localstripe (a stateful local Stripe) and a local fake for Checkout.

Never the real API: every Stripe call goes to a server on loopback.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import stripe
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.db.models import Organization
from hub.db.session import session_scope
from hub.portal.app import create_app
from hub.portal.audit.models import AuditEvent
from hub.portal.billing.models import BillingAccount
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb, portal_settings
from tests.hub.portal.factories import Browser, make_member, make_org
from tests.support.server import serve
from tests.support.services import free_port, wait_for_port

pytestmark = pytest.mark.postgres

WEBHOOK_SECRET = "whsec_test_portal_webhooks"
OPERATIONS_MONTHLY = "operations-monthly"
OPERATIONS_ANNUAL = "operations-annual"
PILOT_ANNUAL = "pilot-annual"


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
        "prices": {
            "operations": {"monthly": OPERATIONS_MONTHLY, "annual": OPERATIONS_ANNUAL},
            "pilot": {"annual": PILOT_ANNUAL},
        },
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
            params={"id": OPERATIONS_MONTHLY, "amount": 50000, "currency": "usd",
                    "interval": "month", "product": {"name": "Operations"}}
        )  # fmt: skip
        client.v1.subscriptions.create(
            params={"customer": customer.id, "items": [{"plan": OPERATIONS_MONTHLY}],
                    "metadata": {"org_id": org.org_id}}
        )  # fmt: skip
        deadline = time.monotonic() + 15
        plan = "pilot"
        while time.monotonic() < deadline and plan != "operations":
            time.sleep(0.3)
            with session_scope(portal_db.owner) as session:
                plan = session.get(Organization, org.org_id).plan  # type: ignore[union-attr]
    assert plan == "operations"
    with session_scope(portal_db.owner) as session:
        account = session.get(BillingAccount, org.org_id)
        assert account is not None and account.stripe_customer_id == customer.id
        assert account.status == "active" and account.interval == "monthly"


def test_webhook_with_a_bad_signature_is_refused(portal_db: PortalDb) -> None:
    app = create_app(
        portal_settings(portal_db.app_url, portal={"stripe": _stripe_settings("http://x")}),
        engine=portal_db.app,
    )
    org = make_org(portal_db.owner)
    event = {
        "id": "evt_forged", "type": "customer.subscription.updated",
        "data": {"object": {"id": "sub_x", "status": "active", "metadata": {"org_id": org.org_id},
                            "items": {"data": [{"plan": {"id": OPERATIONS_MONTHLY}}]}}},
    }  # fmt: skip
    response = TestClient(app).post(
        "/api/v1/billing/stripe-webhook", content=json.dumps(event),
        headers={"stripe-signature": f"t={int(time.time())},v1={'0' * 64}"},
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_input"
    with session_scope(portal_db.owner) as session:
        assert session.get(Organization, org.org_id).plan == "pilot"  # type: ignore[union-attr]


def _fake_stripe() -> tuple[FastAPI, list[tuple[str, dict[str, Any]]]]:
    """Checkout and the billing portal are not in localstripe: a small local fake answers
    (and records each call's form and its Idempotency-Key header)."""
    calls: list[tuple[str, dict[str, Any]]] = []
    fake = FastAPI()

    @fake.post("/v1/{resource:path}")
    async def create(resource: str, request: Request) -> dict[str, Any]:
        form = dict((await request.form()).multi_items())
        form["idempotency-key"] = request.headers.get("idempotency-key")
        calls.append((resource, form))
        prefix = {"customers": "cus", "checkout/sessions": "cs", "billing_portal/sessions": "bps"}
        object_id = f"{prefix[resource]}_{uuid.uuid4().hex[:14]}"
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
            "POST",
            f"/api/v1/orgs/{org.org_id}/billing/checkout",
            json={"plan": "operations", "interval": "annual"},
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
    assert session_params["line_items[0][price]"] == OPERATIONS_ANNUAL


def test_outgoing_calls_carry_idempotency_keys_and_one_customer_per_org(
    portal_db: PortalDb,
) -> None:
    fake, calls = _fake_stripe()
    with serve(fake) as stripe_url:
        app = create_app(
            portal_settings(portal_db.app_url, portal={"stripe": _stripe_settings(stripe_url)}),
            engine=portal_db.app,
        )
        org = make_org(portal_db.owner)
        owner = make_member(portal_db.owner, org.org_id, Role.owner)
        browser = Browser(app).login(owner.email)
        url = f"/api/v1/orgs/{org.org_id}/billing/checkout"
        for _ in range(2):
            answer = browser.api("POST", url, json={"plan": "operations"})
            assert answer.status_code == 200, answer.text
        for body, why in (
            ({"plan": "free"}, "plan"),
            ({"plan": "operations", "interval": "weekly"}, "interval"),
            ({"plan": "pilot"}, "No Stripe price"),  # a real plan without a price: refused
        ):
            refused = browser.api("POST", url, json=body)
            assert refused.status_code == 422 and why in refused.text, body
    assert [resource for resource, _ in calls] == [
        "customers",
        "checkout/sessions",
        "checkout/sessions",
    ]  # the second checkout reuses the org's customer
    keys = [form["idempotency-key"] for _, form in calls]
    assert keys[0] == f"altaviz-customer-{org.org_id}"
    assert all(key and key.startswith("altaviz-checkout-") for key in keys[1:])
    assert calls[1][1]["line_items[0][price]"] == OPERATIONS_MONTHLY


def _signed(event: dict[str, Any], *, at: int | None = None) -> dict[str, Any]:
    payload = json.dumps(event).encode()
    stamp = at or int(time.time())
    mac = hmac.new(WEBHOOK_SECRET.encode(), f"{stamp}.".encode() + payload, hashlib.sha256)
    return {"content": payload, "headers": {"stripe-signature": f"t={stamp},v1={mac.hexdigest()}"}}


def _subscription_event(
    event_id: str, org_id: str, *, created: int, status: str, price: str
) -> dict[str, Any]:
    return {
        "id": event_id, "type": "customer.subscription.updated", "created": created,
        "data": {"object": {"id": f"sub_{org_id}", "customer": f"cus_{org_id}", "status": status,
                            "metadata": {"org_id": org_id},
                            "items": {"data": [{"price": {"id": price}}]}}},
    }  # fmt: skip


def test_webhooks_apply_once_in_order_and_refuse_unknown_prices_and_replays(
    portal_db: PortalDb,
) -> None:
    app = create_app(
        portal_settings(portal_db.app_url, portal={"stripe": _stripe_settings("http://x")}),
        engine=portal_db.app,
    )
    org = make_org(portal_db.owner, stations=7)  # more than Pilot includes
    client = TestClient(app)
    hook = "/api/v1/billing/stripe-webhook"

    def plan_and_status() -> tuple[str, str]:
        with session_scope(portal_db.owner) as session:
            account = session.get(BillingAccount, org.org_id)
            plan = session.get(Organization, org.org_id).plan  # type: ignore[union-attr]
            return plan, account.status if account else "none"

    newer = _subscription_event("evt_new", org.org_id, created=2000, status="active",
                                price=OPERATIONS_ANNUAL)  # fmt: skip
    first = client.post(hook, **_signed(newer))
    assert first.status_code == 200 and first.json() == {"received": True, "applied": True}
    assert plan_and_status() == ("operations", "active")
    assert client.post(hook, **_signed(newer)).json()["applied"] is False  # re-delivered
    # A late, older event (the org was still past due then) changes nothing.
    older = _subscription_event("evt_old", org.org_id, created=1000, status="past_due",
                                price=OPERATIONS_MONTHLY)  # fmt: skip
    assert client.post(hook, **_signed(older)).json()["applied"] is False
    assert plan_and_status() == ("operations", "active")
    # An unknown price is refused, never treated as free; Stripe will retry it.
    unknown = _subscription_event("evt_unknown", org.org_id, created=3000, status="active",
                                  price="price_from_elsewhere")  # fmt: skip
    refused = client.post(hook, **_signed(unknown))
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "unknown_price"
    # A replay of a signed event from long ago, and a forged signature: refused.
    late = _subscription_event("evt_replay", org.org_id, created=4000, status="canceled",
                               price=OPERATIONS_MONTHLY)  # fmt: skip
    assert client.post(hook, **_signed(late, at=int(time.time()) - 600)).status_code == 422
    forged = _signed(late)
    forged["headers"]["stripe-signature"] = forged["headers"]["stripe-signature"][:-4] + "0000"
    assert client.post(hook, **forged).status_code == 422
    assert plan_and_status() == ("operations", "active")
    with session_scope(portal_db.owner) as session:
        audit = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.action.in_(["billing.event_out_of_order", "billing.webhook_refused"]))
            .where((AuditEvent.org_id == org.org_id) | AuditEvent.org_id.is_(None))
        ).all()
    assert audit.count("billing.event_out_of_order") == 1
    assert audit.count("billing.webhook_refused") >= 3
    # A downgrade to Pilot (5 stations) leaves the org over the limit: noted, nothing deleted.
    down = _subscription_event("evt_down", org.org_id, created=5000, status="active",
                               price=PILOT_ANNUAL)  # fmt: skip
    assert client.post(hook, **_signed(down)).json()["applied"] is True
    assert plan_and_status() == ("pilot", "active")
    with session_scope(portal_db.owner) as session:
        account = session.get(BillingAccount, org.org_id)
        assert account is not None and account.over_limit_since is not None
        assert account.interval == "annual"
