"""Billing: plan and usage, Checkout and the billing portal (owners), Stripe's webhook."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Header, Request
from fastapi.responses import RedirectResponse, Response

from hub.portal.auth.dependencies import CurrentPrincipal, DbSession
from hub.portal.auth.permissions import BillingManager
from hub.portal.billing import service
from hub.portal.billing.plans import PAID_PLANS, plan_for
from hub.portal.billing.schemas import (
    BillingRead,
    CheckoutCreate,
    PlanRead,
    RedirectRead,
    WebhookAck,
)
from hub.portal.errors import ERROR_RESPONSES
from hub.portal.orgs import service as orgs
from hub.portal.pages import page

api = APIRouter(tags=["billing"], responses=ERROR_RESPONSES)
pages = APIRouter(include_in_schema=False)


def _read(session: DbSession, org_id: str, request: Request) -> BillingRead:
    org = orgs.get_org(session=session, org_id=org_id)
    billing = service.account(session=session, org_id=org_id)
    plan = plan_for(org.plan)
    return BillingRead(
        plan=PlanRead(**{k: getattr(plan, k) for k in PlanRead.model_fields}),
        status=billing.status,
        current_period_end=billing.current_period_end,
        billing_configured=request.app.state.settings.portal.stripe.enabled,
        usage=service.usage(session=session, org_id=org_id),
    )


@api.get("/orgs/{org_id}/billing", response_model=BillingRead)
def get_billing(request: Request, session: DbSession, scope: BillingManager) -> BillingRead:
    return _read(session, scope.org_id, request)


@api.post("/orgs/{org_id}/billing/checkout", response_model=RedirectRead)
def checkout(
    request: Request, session: DbSession, scope: BillingManager, body: CheckoutCreate
) -> RedirectRead:
    settings = request.app.state.settings.portal
    url = service.start_checkout(
        session=session, scope=scope, plan=body.plan, settings=settings.stripe,
        base_url=settings.base_url,
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
    event = service.verify_webhook(payload=payload, signature=stripe_signature, settings=settings)

    def apply() -> bool:
        with request.app.state.session_factory() as session, session.begin():
            return service.apply_event(session=session, event=event, settings=settings)

    return WebhookAck(received=True, applied=await run_in_threadpool(apply))


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
    plan: Annotated[str, Form(pattern="^(standard|enterprise)$")],
) -> Response:  # fmt: skip
    settings = request.app.state.settings.portal
    url = service.start_checkout(
        session=session, scope=scope, plan=plan, settings=settings.stripe,
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
