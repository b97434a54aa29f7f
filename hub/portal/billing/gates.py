"""Plan gates, enforced server-side at the point of use (API and pages alike).

Other packages call these; none of them reads a plan itself:

    require_feature(org, "compliance")                   # ml | compliance | notifications | sso
    require_feature(scope.org_id, "ml", session=session)
    require_within(session=session, org_id=org_id, what="stations")   # before adding one
    require_channel(session=session, org_id=org_id, channel="sms")
    retention_days(session=session, org_id=org_id)       # None = no limit
    history_start(session=session, org_id=org_id)        # oldest moment shown; None = all
    require_history(session=session, org_id=org_id, newest=moment)   # 402 when older
    require_writable(session=session, org_id=org_id)     # trial over / unpaid past grace
    hidden_compressors(session=session, org_id=org_id)   # beyond the limit, past their grace
    require_compressor_shown(session=session, org_id=org_id, compressor_id=unit)

Each raises PlanLimit (402, "not included in the plan") or OrgReadOnly (402) with a
message saying what to do. An org's standing: active (a paid subscription, a plan set
without billing), trialing (until its date), grace (payment failing, up to GRACE_DAYS),
read_only (trial ended, or payment failed for longer). Nothing is ever deleted.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from sqlalchemy import func, select
from sqlalchemy.orm import Session, object_session

from hub.db.base import as_utc, utc_now
from hub.db.models import Compressor, Organization, Station
from hub.portal.billing.models import BillingAccount
from hub.portal.billing.plans import FEATURES, GRACE_DAYS, LIMITED, Limited, Plan, plan_for
from hub.portal.errors import PlanLimit

State = Literal["active", "trialing", "grace", "read_only"]
PAID = ("active", "trialing")
FAILING = ("past_due", "unpaid", "incomplete")


class OrgReadOnly(PlanLimit):
    """This organisation is read-only until its subscription is paid; see Billing."""

    code = "read_only"


@dataclass(frozen=True)
class Standing:
    plan: Plan
    state: State
    #: When the trial or the grace period ends (None when neither applies).
    until: datetime | None = None

    @property
    def writable(self) -> bool:
        return self.state != "read_only"


def standing(*, session: Session, org_id: str, now: datetime | None = None) -> Standing:
    now = now or utc_now()
    org = session.get(Organization, org_id)
    if org is None:
        raise PlanLimit("No such organisation.")
    plan = plan_for(org.plan)
    account = session.get(BillingAccount, org_id)
    if account is None or account.status in PAID:
        return Standing(plan, "active")
    if account.status in FAILING:
        ends = as_utc(account.past_due_since or now) + timedelta(days=GRACE_DAYS)
        return Standing(plan, "grace" if now < ends else "read_only", ends)
    if account.status == "none":  # never subscribed: a trial, or a plan set by the operator
        if account.trial_ends_at is None:
            return Standing(plan, "active")
        return _trial(plan, as_utc(account.trial_ends_at), now)
    return Standing(plan, "read_only")  # canceled or ended: kept, read-only, nothing deleted


def _trial(plan: Plan, ends: datetime, now: datetime) -> Standing:
    return Standing(plan, "trialing" if now < ends else "read_only", ends)


def _org_and_session(org: Organization | str, session: Session | None) -> tuple[str, Session]:
    if isinstance(org, Organization):
        found = session or object_session(org)
        if found is None:
            raise TypeError("require_feature(org, ...) needs an org loaded in a session")
        return org.id, found
    if session is None:
        raise TypeError("require_feature(org_id, ...) needs session=")
    return org, session


def require_feature(
    org: Organization | str, feature: str, *, session: Session | None = None
) -> Plan:
    """The org's plan, if it includes `feature` and the org is not read-only; else 402."""
    if feature not in FEATURES:
        raise ValueError(f"unknown feature {feature!r}; one of {', '.join(FEATURES)}")
    org_id, session = _org_and_session(org, session)
    found = standing(session=session, org_id=org_id)
    if not found.writable:
        raise OrgReadOnly()
    if not found.plan.includes(feature):
        raise PlanLimit(
            f"The {found.plan.title} plan does not include {_FEATURE_NAMES[feature]}; "
            "upgrade under Settings → Billing."
        )
    return found.plan


_FEATURE_NAMES = {
    "ml": "ML features (remaining useful life, drift, model rollout)",
    "compliance": "compliance reports and exports",
    "notifications": "notifications",
    "sso": "single sign-on",
    "exports": "CSV and Parquet exports",
}


def require_writable(*, session: Session, org_id: str) -> Standing:
    found = standing(session=session, org_id=org_id)
    if not found.writable:
        raise OrgReadOnly()
    return found


def usage(*, session: Session, org_id: str) -> dict[str, int]:
    from hub.portal.orgs.models import Membership
    from hub.portal.tokens.models import ApiToken

    def count(model: Any, *where: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model).where(*where)) or 0)

    return {
        "stations": count(Station, Station.org_id == org_id),
        "compressors": count(Compressor, Compressor.org_id == org_id),
        "members": count(Membership, Membership.org_id == org_id),
        "api_tokens": count(ApiToken, ApiToken.org_id == org_id, ApiToken.revoked_at.is_(None)),
    }


def over_limits(plan: Plan, used: dict[str, int]) -> list[str]:
    """What the org has more of than `plan` includes (after a downgrade)."""
    over: list[str] = []
    for what in LIMITED:
        limit = plan.limit(what)
        if limit is not None and used.get(what, 0) > limit:
            over.append(what)
    return over


def require_within(*, session: Session, org_id: str, what: Limited, adding: int = 1) -> Plan:
    """Before adding `adding` more of `what`: 402 when the plan's limit would be passed."""
    found = require_writable(session=session, org_id=org_id)
    limit = found.plan.limit(what)
    current = usage(session=session, org_id=org_id)[what]
    if limit is not None and current + adding > limit:
        raise PlanLimit(
            f"The {found.plan.title} plan includes {limit} {what.replace('_', ' ')} "
            f"({current} in use); upgrade under Settings → Billing."
        )
    return found.plan


def require_channel(*, session: Session, org_id: str, channel: str) -> Plan:
    plan = require_feature(org_id, "notifications", session=session)
    if channel not in plan.notification_channels:
        raise PlanLimit(f"The {plan.title} plan does not include {channel} notifications.")
    return plan


def retention_days(*, session: Session, org_id: str) -> int | None:
    """Days of history the org's plan keeps and shows (None: no limit)."""
    return standing(session=session, org_id=org_id).plan.retention_days


def history_start(*, session: Session, org_id: str) -> datetime | None:
    """The oldest moment the org's plan shows (None: all of it): `retention_days` before the
    data's clock where the portal reads ages on it (portal.clock `data`), else the wall clock.
    Older rows are left out of reads and exports, never deleted."""
    from hub.portal.fleet.telemetry import data_now

    days = retention_days(session=session, org_id=org_id)
    if days is None:
        return None
    return data_now(session=session, org_id=org_id) - timedelta(days=days)


def require_history(*, session: Session, org_id: str, newest: datetime) -> datetime | None:
    """`history_start`, or 402 when the newest moment asked for is older than it."""
    start = history_start(session=session, org_id=org_id)
    if start is not None and as_utc(newest) < start:
        plan = standing(session=session, org_id=org_id).plan
        raise PlanLimit(
            f"The {plan.title} plan shows {plan.retention_days} days of history (from "
            f"{start:%Y-%m-%d %H:%M} UTC); what was asked for is older. Nothing is deleted: "
            "upgrade under Settings → Billing to see it."
        )
    return start


def compressors_beyond_limit(*, session: Session, org_id: str) -> dict[str, datetime]:
    """Compressors beyond the plan's limit (the newest registered) -> when they stop being
    shown: GRACE_DAYS after they were registered (telemetry registers a unit it names) or
    after the org went over its limits (a downgrade), whichever is later. Their data keeps
    arriving and is kept; an upgrade shows them again with all of it."""
    limit = standing(session=session, org_id=org_id).plan.max_compressors
    if limit is None:
        return {}
    beyond = session.execute(
        select(Compressor.id, Compressor.created_at)
        .where(Compressor.org_id == org_id)
        .order_by(Compressor.created_at, Compressor.id)
        .offset(limit)
    ).all()
    if not beyond:
        return {}
    account = session.get(BillingAccount, org_id)
    over_since = account.over_limit_since if account is not None else None
    grace = timedelta(days=GRACE_DAYS)
    return {
        compressor_id: max(as_utc(created), as_utc(over_since or created)) + grace
        for compressor_id, created in beyond
    }


def hidden_compressors(*, session: Session, org_id: str) -> frozenset[str]:
    """Compressors beyond the plan's limit whose grace has passed: kept, not shown (once
    per session: every list and count of a request agrees)."""
    key = ("hidden_compressors", org_id)
    hidden: frozenset[str] | None = session.info.get(key)
    if hidden is None:
        now = utc_now()
        beyond = compressors_beyond_limit(session=session, org_id=org_id)
        hidden = frozenset(unit for unit, until in beyond.items() if now >= until)
        session.info[key] = hidden
    return hidden


def require_compressor_shown(*, session: Session, org_id: str, compressor_id: str) -> None:
    if compressor_id in hidden_compressors(session=session, org_id=org_id):
        plan = standing(session=session, org_id=org_id).plan
        raise PlanLimit(
            f"The {plan.title} plan includes {plan.max_compressors} compressors: "
            f"{compressor_id} is beyond it and is not shown (its data keeps arriving and is "
            "kept) until the organisation upgrades under Settings → Billing."
        )


def _over_limit_after_grace(session: Session, org_id: str) -> bool:
    account = session.get(BillingAccount, org_id)
    if account is None or account.over_limit_since is None:
        return False
    return utc_now() >= as_utc(account.over_limit_since) + timedelta(days=GRACE_DAYS)


def require_caller_writable(
    *, session: Session, org_id: str, user_id: str, token_id: str | None
) -> None:
    """After a downgrade's grace period, members beyond the plan's limit (the newest,
    owners kept first) and API tokens beyond it (the newest) can only read."""
    if not _over_limit_after_grace(session, org_id):
        return
    from hub.portal.orgs.models import Membership
    from hub.portal.tokens.models import ApiToken

    plan = standing(session=session, org_id=org_id).plan
    if plan.max_members is not None:
        kept = session.scalars(
            select(Membership.user_id)
            .where(Membership.org_id == org_id)
            .order_by((Membership.role != "owner"), Membership.created_at, Membership.user_id)
            .limit(plan.max_members)
        ).all()
        if user_id not in kept:
            raise PlanLimit(
                f"The {plan.title} plan includes {plan.max_members} members: your membership "
                "is read-only until the organisation upgrades or removes members."
            )
    if token_id is not None and plan.max_api_tokens is not None:
        live = session.scalars(
            select(ApiToken.id)
            .where(ApiToken.org_id == org_id, ApiToken.revoked_at.is_(None))
            .order_by(ApiToken.created_at, ApiToken.id)
            .limit(plan.max_api_tokens)
        ).all()
        if token_id not in live:
            raise PlanLimit(
                f"The {plan.title} plan includes {plan.max_api_tokens} API tokens: this one "
                "can only read until the organisation upgrades or revokes tokens."
            )


def require_station_writable(*, session: Session, org_id: str, station_id: str) -> None:
    """After a downgrade's grace period, stations beyond the plan's limit are read-only
    (the oldest `limit` stay writable; any can still be deleted to get back under it)."""
    found = require_writable(session=session, org_id=org_id)
    limit = found.plan.max_stations
    if limit is None or not _over_limit_after_grace(session, org_id):
        return
    oldest = session.scalars(
        select(Station.id)
        .where(Station.org_id == org_id)
        .order_by(Station.created_at, Station.id)
        .limit(limit)
    ).all()
    if station_id not in oldest:
        raise PlanLimit(
            f"The {found.plan.title} plan includes {limit} stations: this one is read-only "
            "until you upgrade or remove stations."
        )
