"""Settings of the workflows (`workflows:` in config/hub.yaml, ALTAVIZ_HUB_WORKFLOWS__*).

`defaults` are what an organisation gets until its admins change its own policy in the
portal (hub.workflows.models.OrgWorkflowSettings).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Severity = Literal["warning", "critical"]
Target = Literal["operators", "admins", "owner"]


class EscalationStep(BaseModel):
    """Notify `notify` once an alert has stayed unacknowledged `after_min` minutes."""

    model_config = ConfigDict(extra="forbid")

    after_min: int = Field(ge=0, le=10080)
    notify: Target


def _default_ladder() -> dict[Severity, list[EscalationStep]]:
    return {
        "critical": [
            EscalationStep(after_min=15, notify="admins"),
            EscalationStep(after_min=60, notify="owner"),
        ],
        "warning": [EscalationStep(after_min=60, notify="admins")],
    }


class OrgDefaults(BaseModel):
    """Per-organisation workflow settings until the org's admins set their own."""

    model_config = ConfigDict(extra="forbid")

    escalation: dict[Severity, list[EscalationStep]] = Field(default_factory=_default_ladder)
    #: Auto-resolve: the condition must have been clear this long (hysteresis).
    auto_resolve_after_min: int = Field(15, ge=1, le=1440)
    #: A station silent longer than this raises a station-offline alert.
    freshness_sla_min: int = Field(10, ge=1, le=1440)
    #: A sensor frozen (one value) or missing this long raises a data-quality alert.
    frozen_after_min: int = Field(60, ge=5, le=1440)
    #: Closed or superseded alerts nobody resolved leave the queue after this many hours.
    stale_after_h: int = Field(24, ge=1, le=8760)
    #: Resolved alerts and delivered notifications are archived (kept, hidden) after this.
    retention_days: int = Field(90, ge=1, le=3650)
    escalation_enabled: bool = True
    auto_resolve_enabled: bool = True
    freshness_enabled: bool = True
    cleanup_enabled: bool = True
    rules_enabled: bool = True


class DeliverySettings(BaseModel):
    """The outbox dispatcher: retries, leases, timeouts (wall-clock seconds)."""

    model_config = ConfigDict(extra="forbid")

    #: Attempts before a notification goes to the dead letter.
    max_attempts: int = Field(6, ge=1, le=50)
    #: Backoff after attempt n: min(base * 2**(n-1), max).
    backoff_base_s: float = Field(30.0, ge=0)
    backoff_max_s: float = Field(3600.0, ge=0)
    #: A claimed delivery not finished within this is taken over (the sender died).
    lease_s: float = Field(120.0, gt=0)
    timeout_s: float = Field(10.0, gt=0)
    #: Notifications claimed per organisation per pass.
    batch_size: int = Field(50, ge=1, le=1000)
    #: Seconds between dispatcher passes.
    poll_interval_s: float = Field(2.0, gt=0)


class WorkflowSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Run the scheduler and the dispatcher (`altaviz-hub workflows`).
    enabled: bool = True
    #: The scheduler runs every workflow job once per tick of this many seconds.
    interval_s: float = Field(30.0, gt=0)
    #: Webhook URLs must be https:// (None: everywhere except development mode).
    require_https: bool | None = None
    defaults: OrgDefaults = Field(default_factory=OrgDefaults)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)
