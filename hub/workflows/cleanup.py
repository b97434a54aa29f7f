"""Stale cleanup: alerts nobody will act on leave the queue; old items are archived.

Nothing is deleted that the audit log or compliance needs: alerts and notifications are
resolved or archived in place (rows kept, hidden from the default views), the audit log is
never touched. Only the scheduler's own run log is pruned after the retention period.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.workflows.context import Episode, WorkflowContext, org_policy
from hub.workflows.models import JobRun, Notification, WorkflowAlert
from hub.workflows.timeline import SYSTEM, record, unresolved


def _stale_reason(episode: Episode, now: datetime, stale_after: timedelta) -> str | None:
    if episode.status == "superseded":
        return "superseded: late data redrew this episode as another one"
    closed = episode.closed_at
    if episode.status == "closed" and closed is not None and now - as_utc(closed) >= stale_after:
        return f"expired: closed for more than {stale_after.total_seconds() / 3600:g} h"
    return None


def clean_up(session: Session, ctx: WorkflowContext, org_id: str, now: datetime) -> int:
    policy = org_policy(session, org_id, ctx.settings.defaults)
    if not policy.cleanup_enabled:
        return 0
    actions = 0
    for episode in unresolved(session, org_id):
        reason = _stale_reason(episode, now, timedelta(hours=policy.stale_after_h))
        if reason is None:
            continue
        episode.resolved_at, episode.resolved_by = now, SYSTEM
        episode.resolution_note = f"Cleaned up: {reason}."
        record(session, org_id=org_id, episode_id=episode.episode_id, kind="cleaned_up", at=now,
               detail={"reason": reason})  # fmt: skip
        actions += 1
    horizon = now - timedelta(days=policy.retention_days)
    archived = session.execute(
        update(WorkflowAlert)
        .where(WorkflowAlert.org_id == org_id, WorkflowAlert.archived_at.is_(None),
               WorkflowAlert.resolved_at < horizon)
        .values(archived_at=now)
    )  # fmt: skip
    notifications = session.execute(
        update(Notification)
        .where(Notification.org_id == org_id, Notification.archived_at.is_(None),
               Notification.status.in_(("sent", "suppressed")), Notification.data_time < horizon)
        .values(archived_at=now)
    )  # fmt: skip
    session.flush()
    return actions + int(archived.rowcount or 0) + int(notifications.rowcount or 0)  # type: ignore[attr-defined]


def prune_job_runs(session: Session, *, before: datetime) -> int:
    """The run log is operational, not an audit record: drop runs of ticks before `before`."""
    result = session.execute(delete(JobRun).where(JobRun.data_time < before))
    return int(result.rowcount or 0)  # type: ignore[attr-defined]
