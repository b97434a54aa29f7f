"""What each plan includes: Pilot, Operations, Enterprise. The gates (billing.gates) read
these at the point of use, in the API and the pages alike; templates only show them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hub.portal.errors import InvalidInput

Feature = Literal["ml", "compliance", "notifications", "sso"]
FEATURES: tuple[Feature, ...] = ("ml", "compliance", "notifications", "sso")
Limited = Literal["stations", "compressors", "members", "api_tokens"]
LIMITED: tuple[Limited, ...] = ("stations", "compressors", "members", "api_tokens")
CHANNELS = ("email", "sms", "teams", "slack", "webhook", "pagerduty")
INTERVALS = ("monthly", "annual")

#: Days a payment may fail, or an org stay over a smaller plan's limits, before the
#: parts over the limit (or the whole org, for payment) become read-only.
GRACE_DAYS = 14


class UnknownPlan(InvalidInput):
    """No such plan (an unknown plan is refused, never treated as free)."""

    code = "unknown_plan"


@dataclass(frozen=True)
class Plan:
    name: str
    title: str
    max_stations: int | None
    max_compressors: int | None
    max_members: int | None
    max_api_tokens: int | None
    #: Days of history kept and shown (None: no limit).
    retention_days: int | None
    features: frozenset[str]
    notification_channels: frozenset[str]

    def limit(self, what: Limited) -> int | None:
        value: int | None = getattr(self, f"max_{what}")
        return value

    def includes(self, feature: str) -> bool:
        return feature in self.features


PLANS: dict[str, Plan] = {
    "pilot": Plan(
        "pilot", "Pilot", max_stations=5, max_compressors=30, max_members=5, max_api_tokens=5,
        retention_days=90, features=frozenset({"notifications"}),
        notification_channels=frozenset({"email"}),
    ),
    "operations": Plan(
        "operations", "Operations", max_stations=50, max_compressors=400, max_members=50,
        max_api_tokens=50, retention_days=730,
        features=frozenset({"ml", "compliance", "notifications"}),
        notification_channels=frozenset({"email", "sms", "teams", "slack", "webhook"}),
    ),
    "enterprise": Plan(
        "enterprise", "Enterprise", None, None, None, None, retention_days=None,
        features=frozenset(FEATURES), notification_channels=frozenset(CHANNELS),
    ),
}  # fmt: skip
PAID_PLANS = tuple(PLANS)


def plan_for(name: str) -> Plan:
    try:
        return PLANS[name]
    except KeyError:
        raise UnknownPlan(f"There is no plan named {name[:40]!r}.") from None
