from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class PlanRead(BaseModel):
    name: str
    title: str
    max_stations: int | None
    max_compressors: int | None
    max_members: int | None
    max_api_tokens: int | None
    retention_days: int | None
    features: list[str]
    notification_channels: list[str]


class BillingRead(BaseModel):
    plan: PlanRead
    #: Stripe's subscription status (none, active, trialing, past_due, canceled, ...).
    status: str
    #: What the gates apply: active, trialing, grace or read_only.
    standing: Literal["active", "trialing", "grace", "read_only"]
    #: When the trial or the grace period ends.
    standing_until: datetime | None
    interval: str | None
    current_period_end: datetime | None
    billing_configured: bool
    usage: dict[str, int]
    over_limit: list[str]


class CheckoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: Literal["pilot", "operations", "enterprise"]
    interval: Literal["monthly", "annual"] = "monthly"


class RedirectRead(BaseModel):
    url: str


class WebhookAck(BaseModel):
    received: bool
    applied: bool
