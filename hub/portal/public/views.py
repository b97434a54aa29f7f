"""The landing page (`/` for visitors; members go on to their fleet) and the pricing page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from hub.portal.auth.dependencies import OptionalPrincipal
from hub.portal.billing.plans import PLANS
from hub.portal.public.figures import FIGURES
from hub.portal.templating import render

pages = APIRouter(include_in_schema=False)


def landing(request: Request) -> HTMLResponse:
    return render(request, "public/landing.html", {"figures": FIGURES, "nav": "home"})


@pages.get("/pricing")
def pricing(request: Request, found: OptionalPrincipal) -> Response:
    prices = request.app.state.settings.portal.stripe.list_prices
    plans = [(plan, prices.get(plan.name)) for plan in PLANS.values()]
    return render(
        request, "public/pricing.html", {"plans": plans, "principal": found, "nav": "pricing"}
    )
