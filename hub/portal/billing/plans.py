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
    #: Capabilities beyond the limits, by name (e.g. "compliance"); see has_feature.
    features: frozenset[str] = frozenset()


#: The feature the compliance pages and API check (hub.portal.compliance).
COMPLIANCE = frozenset({"compliance"})
#: CSV / Parquet downloads (hub.portal.exports checks it with require_feature).
EXPORTS = frozenset({"exports"})

PLANS = {
    "trial": Plan("trial", "Trial", max_stations=5, max_members=5, max_api_tokens=5),
    "standard": Plan(
        "standard",
        "Standard",
        max_stations=50,
        max_members=50,
        max_api_tokens=50,
        features=COMPLIANCE | EXPORTS,
    ),
    "enterprise": Plan("enterprise", "Enterprise", None, None, None, features=COMPLIANCE | EXPORTS),
}
PAID_PLANS = ("standard", "enterprise")


def plan_for(name: str) -> Plan:
    return PLANS.get(name, PLANS["trial"])


def has_feature(plan: Plan, feature: str) -> bool:
    return feature in plan.features


def check_limit(plan: Plan, *, what: str, current: int) -> None:
    limit = {
        "stations": plan.max_stations,
        "members": plan.max_members,
        "api_tokens": plan.max_api_tokens,
    }[what]
    if limit is not None and current >= limit:
        raise PlanLimit(f"The {plan.title} plan includes {limit} {what.replace('_', ' ')}.")


def require_feature(plan: Plan, feature: str) -> None:
    """Refuse (402) what the plan does not include (`has_feature`)."""
    if not has_feature(plan, feature):
        raise PlanLimit(f"The {plan.title} plan does not include {feature}; upgrade under Billing.")
