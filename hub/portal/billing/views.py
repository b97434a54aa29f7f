"""Billing: plan and usage, Checkout and the billing portal (owners), Stripe's webhook."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.audit import service as audit
from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import BillingManager
from hub.portal.billing import gates, service
from hub.portal.billing.plans import PAID_PLANS
from hub.portal.billing.schemas import (
    BillingRead,
    CheckoutCreate,
    PlanRead,
    RedirectRead,
    WebhookAck,
)
from hub.portal.errors import ERROR_RESPONSES, PortalError
from hub.portal.orgs import service as orgs
from hub.portal.pages import page
from hub.portal.tenancy import set_db_scope

api = APIRouter(tags=["billing"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)


def _read(session: DbSession, org_id: str, request: Request) -> BillingRead:
    orgs.get_org(session=session, org_id=org_id)
    billing = service.account(session=session, org_id=org_id)
    found = gates.standing(session=session, org_id=org_id)
    plan = found.plan
    used = gates.usage(session=session, org_id=org_id)
    fields = {k: getattr(plan, k) for k in PlanRead.model_fields}
    fields["features"] = sorted(plan.features)
    fields["notification_channels"] = sorted(plan.notification_channels)
    return BillingRead(
        plan=PlanRead(**fields), status=billing.status, standing=found.state,
        standing_until=found.until, interval=billing.interval,
        current_period_end=billing.current_period_end,
        billing_configured=request.app.state.settings.portal.stripe.enabled,
        usage=used, over_limit=gates.over_limits(plan, used),
    )  # fmt: skip


@api.get("/orgs/{org_id}/billing", response_model=BillingRead)
def get_billing(request: Request, session: DbSession, scope: BillingManager) -> BillingRead:
    return _read(session, scope.org_id, request)


@api.post("/orgs/{org_id}/billing/checkout", response_model=RedirectRead)
def checkout(
    request: Request, session: DbSession, scope: BillingManager, body: CheckoutCreate
) -> RedirectRead:
    settings = request.app.state.settings.portal
    url = service.start_checkout(
        session=session, scope=scope, plan=body.plan, interval=body.interval,
        settings=settings.stripe, base_url=settings.base_url,
    )  # fmt: skip
    return RedirectRead(url=url)


@api.post("/orgs/{org_id}/billing/portal", response_model=RedirectRead)
def billing_portal(request: Request, session: DbSession, scope: BillingManager) -> RedirectRead:
    settings = request.app.state.settings.portal
    url = service.portal_session(
        session=session, scope=scope, settings=settings.stripe, base_url=settings.base_url
    )
    return RedirectRead(url=url)


@api.post("/billing/stripe-webhook", response_model=WebhookAck, tags=["billing"])
async def stripe_webhook(
    request: Request,
    stripe_signature: Annotated[str, Header(max_length=2000)],
) -> WebhookAck:
    """Stripe calls this; the signature (not a session) authenticates it."""
    from starlette.concurrency import run_in_threadpool

    settings = request.app.state.settings.portal.stripe
    payload = await request.body()
    factory = request.app.state.session_factory
    try:
        event = service.verify_webhook(
            payload=payload, signature=stripe_signature, settings=settings
        )
    except PortalError as exc:
        await run_in_threadpool(_refused, factory, None, "(unverified)", exc)
        raise

    def apply() -> bool:
        with factory() as session, session.begin():
            return service.apply_event(session=session, event=event, settings=settings)

    try:
        applied = await run_in_threadpool(apply)
    except PortalError as exc:  # e.g. an unknown price: nothing changed, Stripe retries
        await run_in_threadpool(_refused, factory, service.event_org(event), event["id"], exc)
        raise
    return WebhookAck(received=True, applied=applied)


def _refused(factory: Any, org_id: str | None, event_id: str, exc: PortalError) -> None:
    """The audit entry of a refused webhook, in its own transaction (the event's rolled back)."""
    with factory() as session, session.begin():
        if org_id is not None:
            set_db_scope(session, org_id=org_id)
        audit.record(
            session=session, action="billing.webhook_refused", org_id=org_id, outcome="failure",
            detail={"event": event_id[:100], "reason": exc.message[:200]},
        )  # fmt: skip


@pages.get("/o/{org_id}/settings/billing")
def billing_page(
    request: Request, session: DbSession, scope: BillingManager, found: CurrentPrincipal
) -> Response:
    return page(
        request, "settings/billing.html", session=session, scope=scope, principal=found,
        nav="settings", tab="billing", billing=_read(session, scope.org_id, request),
        paid_plans=PAID_PLANS,
    )  # fmt: skip


@pages.post("/o/{org_id}/settings/billing/checkout")
def billing_checkout_page(
    request: Request, session: DbSession, scope: BillingManager,
    plan: Annotated[str, Form(pattern="^(pilot|operations|enterprise)$")],
    interval: Annotated[str, Form(pattern="^(monthly|annual)$")] = "monthly",
) -> Response:  # fmt: skip
    settings = request.app.state.settings.portal
    url = service.start_checkout(
        session=session, scope=scope, plan=plan, interval=interval, settings=settings.stripe,
        base_url=settings.base_url,
    )  # fmt: skip
    return RedirectResponse(url, status_code=303)


@pages.post("/o/{org_id}/settings/billing/portal")
def billing_portal_page(request: Request, session: DbSession, scope: BillingManager) -> Response:
    settings = request.app.state.settings.portal
    url = service.portal_session(
        session=session, scope=scope, settings=settings.stripe, base_url=settings.base_url
    )
    return RedirectResponse(url, status_code=303)
