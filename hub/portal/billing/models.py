"""An org's plan and its Stripe customer/subscription; processed webhook events."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.db.base import ID_LENGTH, Base, OrgScoped, UtcDateTime, utc_now


class BillingAccount(OrgScoped, Base):
    __tablename__ = "billing_accounts"

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100), unique=True)
    stripe_subscription_id: Mapped[str | None] = mapped_column(String(100))
    #: Stripe's subscription status (active, past_due, canceled, ...).
    status: Mapped[str] = mapped_column(String(32), default="none")
    current_period_end: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: monthly | annual (the price the subscription is on).
    interval: Mapped[str | None] = mapped_column(String(16))
    #: Without a subscription the plan's trial runs until then; after it, read-only.
    trial_ends_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    #: Stripe's `created` (epoch s) of the newest applied subscription event: older lose.
    last_event_at: Mapped[int | None] = mapped_column(BigInteger)
    #: When payment started failing / the org went over its plan's limits (grace starts).
    past_due_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    over_limit_since: Mapped[datetime | None] = mapped_column(UtcDateTime)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now, onupdate=utc_now)


class StripeEvent(OrgScoped, Base):
    """Webhook events already applied, so a re-delivery is recognised (idempotency)."""

    __tablename__ = "stripe_events"

    org_id: Mapped[str] = mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )
    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    received_at: Mapped[datetime] = mapped_column(UtcDateTime, default=utc_now)
