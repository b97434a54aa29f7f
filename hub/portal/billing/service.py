"""Stripe: a customer per org, Checkout for upgrades, the billing portal, and webhooks.

Webhooks are verified with the endpoint's signing secret before anything is read;
the org comes from metadata the portal itself put on the Stripe objects.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import stripe
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import Organization, Station
from hub.portal.audit import service as audit
from hub.portal.billing.models import BillingAccount, StripeEvent
from hub.portal.billing.plans import PLANS, plan_for
from hub.portal.errors import InvalidInput, ServiceUnavailable
from hub.portal.orgs.models import Membership
from hub.portal.tenancy import OrgScope, set_db_scope
from hub.portal.tokens.models import ApiToken
from hub.settings import StripeSettings
from shared.ids import check_id

log = logging.getLogger(__name__)

#: Stripe's default: events signed more than 5 minutes ago are refused (replay protection).
WEBHOOK_TOLERANCE_S = 300

SUBSCRIPTION_EVENTS = (
    "customer.subscription.created",
    "customer.subscription.updated",
    "customer.subscription.deleted",
)


def client(settings: StripeSettings) -> stripe.StripeClient:
    if not settings.enabled:
        raise ServiceUnavailable("Billing is not configured on this portal.")
    addresses: Any = {"api": settings.api_base} if settings.api_base else None
    return stripe.StripeClient(
        settings.api_key.get_secret_value(), base_addresses=addresses, max_network_retries=1
    )


def account(*, session: Session, org_id: str) -> BillingAccount:
    found = session.get(BillingAccount, org_id)
    if found is None:
        found = BillingAccount(org_id=org_id, status="none")
        session.add(found)
        session.flush()
    return found


def usage(*, session: Session, org_id: str) -> dict[str, int]:
    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return {
        "stations": count(Station, Station.org_id == org_id),
        "members": count(Membership, Membership.org_id == org_id),
        "api_tokens": count(ApiToken, ApiToken.org_id == org_id, ApiToken.revoked_at.is_(None)),
    }


def _ensure_customer(
    stripe_client: stripe.StripeClient, *, session: Session, scope: OrgScope
) -> BillingAccount:
    billing = account(session=session, org_id=scope.org_id)
    if billing.stripe_customer_id is None:
        org = session.get(Organization, scope.org_id)
        customer = stripe_client.v1.customers.create(
            params={"name": org.name if org else scope.org_id, "metadata": {"org_id": scope.org_id}}
        )
        billing.stripe_customer_id = customer.id
        session.flush()
    return billing


def start_checkout(
    *, session: Session, scope: OrgScope, plan: str, settings: StripeSettings, base_url: str
) -> str:
    price = settings.prices.get(plan)
    if not price:
        raise InvalidInput(f"No Stripe price is configured for the {plan} plan.")
    stripe_client = client(settings)
    billing = _ensure_customer(stripe_client, session=session, scope=scope)
    back = f"{base_url.rstrip('/')}/o/{scope.org_id}/settings/billing"
    checkout = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": billing.stripe_customer_id,
            "client_reference_id": scope.org_id,
            "line_items": [{"price": price, "quantity": 1}],
            "subscription_data": {"metadata": {"org_id": scope.org_id}},
            "success_url": back + "?checkout=done",
            "cancel_url": back,
        }
    )
    audit.record(
        session=session, action="billing.checkout_started", org_id=scope.org_id,
        actor_user_id=scope.user_id, detail={"plan": plan},
    )  # fmt: skip
    return str(checkout.url)


def portal_session(
    *, session: Session, scope: OrgScope, settings: StripeSettings, base_url: str
) -> str:
    stripe_client = client(settings)
    billing = _ensure_customer(stripe_client, session=session, scope=scope)
    portal = stripe_client.v1.billing_portal.sessions.create(
        params={
            "customer": billing.stripe_customer_id or "",
            "return_url": f"{base_url.rstrip('/')}/o/{scope.org_id}/settings/billing",
        }
    )
    audit.record(
        session=session, action="billing.portal_opened", org_id=scope.org_id,
        actor_user_id=scope.user_id,
    )  # fmt: skip
    return str(portal.url)


def verify_webhook(*, payload: bytes, signature: str, settings: StripeSettings) -> dict[str, Any]:
    """The event (plain JSON), if the Stripe-Signature header matches; InvalidInput otherwise."""
    secret = settings.webhook_secret.get_secret_value()
    if not secret:
        raise ServiceUnavailable("Billing webhooks are not configured on this portal.")
    try:
        stripe.WebhookSignature.verify_header(
            payload.decode("utf-8"), signature, secret, tolerance=WEBHOOK_TOLERANCE_S
        )
        event = json.loads(payload)
    except (ValueError, UnicodeDecodeError, stripe.SignatureVerificationError) as exc:
        raise InvalidInput("The webhook signature does not verify.") from exc
    if not isinstance(event, dict) or not isinstance(event.get("data"), dict):
        raise InvalidInput("The webhook payload is not a Stripe event.")
    return event


def _plan_of(subscription: Any, settings: StripeSettings) -> str:
    by_price = {price: plan for plan, price in settings.prices.items()}
    for item in (subscription.get("items") or {}).get("data") or []:
        price = item.get("price") or item.get("plan") or {}
        plan = by_price.get(price.get("id", ""))
        if plan:
            return plan
    return "trial"


def apply_event(*, session: Session, event: dict[str, Any], settings: StripeSettings) -> bool:
    """Apply a verified event once; False when ignored or already applied."""
    obj = event["data"].get("object") or {}
    metadata = obj.get("metadata") or {}
    org_id = metadata.get("org_id") or obj.get("client_reference_id")
    if not org_id or event["type"] not in (*SUBSCRIPTION_EVENTS, "checkout.session.completed"):
        return False
    check_id("org id", org_id)
    set_db_scope(session, org_id=org_id)
    org = session.get(Organization, org_id)
    if org is None or session.get(StripeEvent, (org_id, event["id"])) is not None:
        return False
    session.add(StripeEvent(org_id=org_id, event_id=event["id"], event_type=event["type"]))
    billing = account(session=session, org_id=org_id)
    if obj.get("customer"):
        billing.stripe_customer_id = str(obj["customer"])
    if event["type"] in SUBSCRIPTION_EVENTS:
        billing.stripe_subscription_id = str(obj.get("id"))
        billing.status = str(obj.get("status") or "none")
        ends = obj.get("current_period_end")
        billing.current_period_end = datetime.fromtimestamp(ends, UTC) if ends else None
        active = (
            billing.status in ("active", "trialing") and event["type"] != SUBSCRIPTION_EVENTS[2]
        )
        new_plan = _plan_of(obj, settings) if active else "trial"
        if new_plan != org.plan:
            audit.record(
                session=session, action="billing.plan_changed", org_id=org_id,
                detail={"from": org.plan, "to": new_plan, "event": event["id"]},
            )  # fmt: skip
            org.plan = new_plan
    session.flush()
    return True


def plans() -> list[dict[str, Any]]:
    return [plan.__dict__ for plan in PLANS.values()]


def current_plan(org: Organization) -> Any:
    return plan_for(org.plan)
