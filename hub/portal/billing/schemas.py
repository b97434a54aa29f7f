from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict


class PlanRead(BaseModel):
    name: str
    title: str
    max_stations: int | None
    max_members: int | None
    max_api_tokens: int | None


class BillingRead(BaseModel):
    plan: PlanRead
    status: str
    current_period_end: datetime | None
    billing_configured: bool
    usage: dict[str, int]


class CheckoutCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan: Literal["standard", "enterprise"]


class RedirectRead(BaseModel):
    url: str


class WebhookAck(BaseModel):
    received: bool
    applied: bool
