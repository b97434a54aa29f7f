"""Stripe: a customer per org, Checkout for upgrades, the Customer Portal, and webhooks.

Outgoing calls carry idempotency keys (two concurrent checkouts make one customer).
Webhooks are verified with the endpoint's signing secret before anything is read,
applied once (event ids are kept) and in order: an event older than the newest one
applied to the org's subscription is recorded but changes nothing. An unknown price is
refused, never treated as free. The org comes from metadata the portal itself put on
the Stripe objects.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import stripe
from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.db.models import Organization
from hub.portal.audit import service as audit
from hub.portal.billing import gates
from hub.portal.billing.models import BillingAccount, StripeEvent
from hub.portal.billing.plans import INTERVALS, PLANS, plan_for
from hub.portal.errors import InvalidInput, ServiceUnavailable
from hub.portal.tenancy import OrgScope, set_db_scope
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
HANDLED_EVENTS = (*SUBSCRIPTION_EVENTS, "checkout.session.completed")


class UnknownPrice(InvalidInput):
    """The subscription's price is not one of this portal's plans."""

    code = "unknown_price"


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


def start_trial(*, session: Session, org_id: str, days: int) -> None:
    """A new org's Pilot trial: read-only after `days` unless it subscribes."""
    billing = account(session=session, org_id=org_id)
    billing.trial_ends_at = utc_now() + timedelta(days=days)
    session.flush()


def _ensure_customer(
    stripe_client: stripe.StripeClient, *, session: Session, scope: OrgScope
) -> BillingAccount:
    billing = account(session=session, org_id=scope.org_id)
    if billing.stripe_customer_id is None:
        org = session.get(Organization, scope.org_id)
        # Keyed by org: a second, concurrent request gets the same customer back.
        customer = stripe_client.v1.customers.create(
            params={
                "name": org.name if org else scope.org_id,
                "metadata": {"org_id": scope.org_id},
            },
            options={"idempotency_key": f"altaviz-customer-{scope.org_id}"},
        )
        billing.stripe_customer_id = customer.id
        session.flush()
    return billing


def price_for(settings: StripeSettings, plan: str, interval: str) -> str:
    plan_for(plan)  # UnknownPlan for a plan that does not exist
    if interval not in INTERVALS:
        raise InvalidInput(f"Billing interval is monthly or annual, not {interval[:20]!r}.")
    price = settings.prices.get(plan, {}).get(interval)  # type: ignore[call-overload]
    if not price:
        raise InvalidInput(f"No Stripe price is configured for the {plan} plan ({interval}).")
    return str(price)


def start_checkout(
    *, session: Session, scope: OrgScope, plan: str, interval: str, settings: StripeSettings,
    base_url: str,
) -> str:  # fmt: skip
    price = price_for(settings, plan, interval)
    stripe_client = client(settings)
    billing = _ensure_customer(stripe_client, session=session, scope=scope)
    back = f"{base_url.rstrip('/')}/o/{scope.org_id}/settings/billing"
    # One Checkout per org, plan and minute: a double click opens the same session.
    minute = utc_now().strftime("%Y%m%d%H%M")
    checkout = stripe_client.v1.checkout.sessions.create(
        params={
            "mode": "subscription",
            "customer": billing.stripe_customer_id,
            "client_reference_id": scope.org_id,
            "line_items": [{"price": price, "quantity": 1}],
            "subscription_data": {"metadata": {"org_id": scope.org_id}},
            "success_url": back + "?checkout=done",
            "cancel_url": back,
        },
        options={"idempotency_key": f"altaviz-checkout-{scope.org_id}-{price}-{minute}"},
    )
    audit.record(
        session=session, action="billing.checkout_started", org_id=scope.org_id,
        actor_user_id=scope.user_id, detail={"plan": plan, "interval": interval},
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
    if not isinstance(event.get("id"), str) or not isinstance(event.get("type"), str):
        raise InvalidInput("The webhook payload is not a Stripe event.")
    return event


def _plan_of(subscription: Any, settings: StripeSettings) -> tuple[str, str]:
    by_price = {
        price: (plan, interval)
        for plan, prices in settings.prices.items()
        for interval, price in prices.items()
    }
    items = (subscription.get("items") or {}).get("data") or []
    for item in items:
        price = item.get("price") or item.get("plan") or {}
        found = by_price.get(str(price.get("id", "")))
        if found:
            return found
    raise UnknownPrice("The subscription's price is not one of this portal's plans.")


def event_org(event: dict[str, Any]) -> str | None:
    obj = event["data"].get("object") or {}
    org_id = (obj.get("metadata") or {}).get("org_id") or obj.get("client_reference_id")
    return check_id("org id", org_id) if org_id else None


def apply_event(*, session: Session, event: dict[str, Any], settings: StripeSettings) -> bool:
    """Apply a verified event once and in order; False when ignored, repeated or stale."""
    org_id = event_org(event)
    if org_id is None or event["type"] not in HANDLED_EVENTS:
        return False
    set_db_scope(session, org_id=org_id)
    org = session.get(Organization, org_id)
    if org is None or session.get(StripeEvent, (org_id, event["id"])) is not None:
        return False
    obj = event["data"].get("object") or {}
    billing = account(session=session, org_id=org_id)
    created = int(event.get("created") or 0)
    if event["type"] in SUBSCRIPTION_EVENTS:
        if billing.last_event_at is not None and created < billing.last_event_at:
            audit.record(
                session=session, action="billing.event_out_of_order", org_id=org_id,
                outcome="blocked", detail={"event": event["id"], "type": event["type"]},
            )  # fmt: skip
            session.add(StripeEvent(org_id=org_id, event_id=event["id"], event_type=event["type"]))
            session.flush()
            return False
        _apply_subscription(session, org, billing, obj, event, settings)
        billing.last_event_at = created
    if obj.get("customer"):
        billing.stripe_customer_id = str(obj["customer"])
    session.add(StripeEvent(org_id=org_id, event_id=event["id"], event_type=event["type"]))
    session.flush()
    return True


def _apply_subscription(
    session: Session, org: Organization, billing: BillingAccount, obj: dict[str, Any],
    event: dict[str, Any], settings: StripeSettings,
) -> None:  # fmt: skip
    status = str(obj.get("status") or "none")
    if event["type"] == SUBSCRIPTION_EVENTS[2]:
        status = "canceled"
    if status in gates.PAID:
        plan, interval = _plan_of(obj, settings)  # UnknownPrice: nothing is changed
        billing.interval = interval
        if plan != org.plan:
            audit.record(
                session=session, action="billing.plan_changed", org_id=org.id,
                detail={"from": org.plan, "to": plan, "event": event["id"]},
            )  # fmt: skip
            org.plan = plan
        billing.trial_ends_at = None
    billing.stripe_subscription_id = str(obj.get("id") or "") or None
    if status in gates.FAILING and billing.status not in gates.FAILING:
        billing.past_due_since = utc_now()
    elif status not in gates.FAILING:
        billing.past_due_since = None
    billing.status = status
    ends = obj.get("current_period_end")
    billing.current_period_end = datetime.fromtimestamp(ends, UTC) if ends else None
    session.flush()
    over = gates.over_limits(plan_for(org.plan), gates.usage(session=session, org_id=org.id))
    if over and billing.over_limit_since is None:
        billing.over_limit_since = utc_now()
        audit.record(
            session=session, action="billing.over_limit", org_id=org.id,
            detail={"over": over, "grace_days": gates.GRACE_DAYS},
        )  # fmt: skip
    elif not over:
        billing.over_limit_since = None


def plans() -> list[dict[str, Any]]:
    return [plan.__dict__ for plan in PLANS.values()]
