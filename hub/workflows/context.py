"""What every workflow job needs: hub settings, the org's own policy, the clearance check."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from hub.workflows.models import OrgWorkflowSettings
from hub.workflows.settings import OrgDefaults, WorkflowSettings


class Episode(Protocol):
    """An alert either the lakehouse (alert_episodes) or a workflow (workflow_alerts) raised."""

    org_id: str
    episode_id: str
    station_id: str
    compressor_id: Any
    condition: str
    category: str
    severity: str
    status: str
    opened_at: datetime
    escalated_at: datetime | None
    closed_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class ClearanceCheck(Protocol):
    """Since when an alert's condition has been clear (None: it is not clear).

    The serving implementation (hub.workflows.clearance) reads the serving tables; a
    richer one (per-sensor status, model scores from gold) can replace it unchanged.
    """

    def clear_since(self, session: Session, episode: Episode, now: datetime) -> datetime | None: ...


@dataclass
class WorkflowContext:
    settings: WorkflowSettings
    #: Links in notifications point here (portal.base_url).
    base_url: str
    clearance: ClearanceCheck
    #: Development mode: http:// webhooks allowed unless settings.require_https says otherwise.
    development: bool = True
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def require_https(self) -> bool:
        chosen = self.settings.require_https
        return (not self.development) if chosen is None else chosen

    def alert_url(self, org_id: str, episode_id: str) -> str:
        return f"{self.base_url.rstrip('/')}/o/{org_id}/alerts/{episode_id}"


def org_policy(session: Session, org_id: str, defaults: OrgDefaults) -> OrgDefaults:
    """The org's own policy, or the hub's defaults when its admins never changed them."""
    row = session.get(OrgWorkflowSettings, org_id)
    if row is None:
        return defaults
    return OrgDefaults.model_validate({**defaults.model_dump(), **row.config})


def title_of(condition: str) -> str:
    return condition.replace("_", " ").replace(":", ": ").capitalize()
