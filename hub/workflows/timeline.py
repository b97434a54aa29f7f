"""Alerts the workflows act on (both tables), their timeline, and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.portal.audit import service as audit
from hub.serving.models import AlertEpisode
from hub.workflows.context import Episode
from hub.workflows.models import EpisodeEvent, WorkflowAlert

#: The actor workflows write as (audit log, timeline, resolved_by).
SYSTEM = "workflows"


def unresolved(session: Session, org_id: str) -> list[Episode]:
    """Every alert in the org's queue: not resolved (and, for workflow alerts, not archived)."""
    episodes: list[Episode] = list(
        session.scalars(
            select(AlertEpisode)
            .where(AlertEpisode.org_id == org_id, AlertEpisode.resolved_at.is_(None))
            .order_by(AlertEpisode.opened_at, AlertEpisode.episode_id)
        )
    )
    episodes += list(
        session.scalars(
            select(WorkflowAlert)
            .where(
                WorkflowAlert.org_id == org_id,
                WorkflowAlert.resolved_at.is_(None),
                WorkflowAlert.archived_at.is_(None),
            )
            .order_by(WorkflowAlert.opened_at, WorkflowAlert.episode_id)
        )
    )
    return episodes


def find_alert(session: Session, org_id: str, episode_id: str) -> Episode | None:
    found: Episode | None = session.get(AlertEpisode, (org_id, episode_id))
    return found or session.get(WorkflowAlert, (org_id, episode_id))


def record(
    session: Session,
    *,
    org_id: str,
    episode_id: str,
    kind: str,
    at: datetime,
    actor: str = SYSTEM,
    actor_user_id: str | None = None,
    step: int | None = None,
    detail: dict[str, Any] | None = None,
) -> EpisodeEvent:
    """One timeline entry, and the same action in the org's audit log."""
    detail = detail or {}
    event = EpisodeEvent(
        org_id=org_id, episode_id=episode_id, kind=kind, at=at, actor=actor, step=step,
        detail=detail,
    )  # fmt: skip
    session.add(event)
    audit.record(
        session=session, action=f"workflow.{kind}", org_id=org_id, actor_user_id=actor_user_id,
        actor_email=actor, target=episode_id,
        detail={"data_time": at.isoformat(), **({"step": step} if step is not None else {}), **detail},
    )  # fmt: skip
    session.flush()
    return event


def events_of(
    session: Session, org_id: str, episode_ids: list[str], kind: str
) -> list[EpisodeEvent]:
    if not episode_ids:
        return []
    return list(
        session.scalars(
            select(EpisodeEvent).where(
                EpisodeEvent.org_id == org_id,
                EpisodeEvent.kind == kind,
                EpisodeEvent.episode_id.in_(episode_ids),
            )
        )
    )


def timeline(session: Session, org_id: str, episode_id: str) -> list[EpisodeEvent]:
    return list(
        session.scalars(
            select(EpisodeEvent)
            .where(EpisodeEvent.org_id == org_id, EpisodeEvent.episode_id == episode_id)
            .order_by(EpisodeEvent.at, EpisodeEvent.id)
        )
    )
