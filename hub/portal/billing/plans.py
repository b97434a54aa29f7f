"""What each plan includes; the services enforce these gates (not the templates)."""

from __future__ import annotations

from dataclasses import dataclass

from hub.portal.errors import PlanLimit


@dataclass(frozen=True)
class Plan:
    name: str
    title: str
    max_stations: int | None
    max_members: int | None
    max_api_tokens: int | None
    sso: bool = True
    #: CSV / Parquet downloads (hub/exports); checked with `require_feature(plan, "exports")`.
    exports: bool = True


PLANS = {
    "trial": Plan("trial", "Trial", max_stations=5, max_members=5, max_api_tokens=5, exports=False),
    "standard": Plan("standard", "Standard", max_stations=50, max_members=50, max_api_tokens=50),
    "enterprise": Plan("enterprise", "Enterprise", None, None, None),
}
PAID_PLANS = ("standard", "enterprise")


def plan_for(name: str) -> Plan:
    return PLANS.get(name, PLANS["trial"])


def check_limit(plan: Plan, *, what: str, current: int) -> None:
    limit = {
        "stations": plan.max_stations,
        "members": plan.max_members,
        "api_tokens": plan.max_api_tokens,
    }[what]
    if limit is not None and current >= limit:
        raise PlanLimit(f"The {plan.title} plan includes {limit} {what.replace('_', ' ')}.")


def require_feature(plan: Plan, feature: str) -> None:
    """Refuse (402) what the plan does not include; `feature` names a boolean field of Plan."""
    if not getattr(plan, feature):
        raise PlanLimit(f"The {plan.title} plan does not include {feature}; upgrade under Billing.")
