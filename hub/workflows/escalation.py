"""Escalation: an alert nobody acknowledged climbs its severity's ladder, one step at a time.

A step fires once per alert, when the alert has stayed unacknowledged `after_min` minutes
since it opened (for critical: since it became critical) and its condition is still
present. Acknowledging (or resolving) stops the ladder.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.workflows.context import Episode, WorkflowContext, org_policy
from hub.workflows.notify import notify
from hub.workflows.timeline import events_of, record, unresolved


def ladder_start(episode: Episode) -> datetime:
    if episode.severity == "critical" and episode.escalated_at is not None:
        return as_utc(episode.escalated_at)
    return as_utc(episode.opened_at)


def escalate(session: Session, ctx: WorkflowContext, org_id: str, now: datetime) -> int:
    policy = org_policy(session, org_id, ctx.settings.defaults)
    if not policy.escalation_enabled:
        return 0
    waiting = [
        e for e in unresolved(session, org_id)
        if e.acknowledged_at is None and e.status == "open" and e.severity in policy.escalation
    ]  # fmt: skip
    fired = {
        (event.episode_id, event.detail.get("severity"), event.step)
        for event in events_of(session, org_id, [e.episode_id for e in waiting], "escalated")
    }
    actions = 0
    for episode in waiting:
        start = ladder_start(episode)
        for index, step in enumerate(policy.escalation[episode.severity]):  # type: ignore[index]
            if (episode.episode_id, episode.severity, index) in fired:
                continue
            due = start + timedelta(minutes=step.after_min)
            if now < due:
                continue
            detail = f"unacknowledged {step.after_min} min, escalated to {step.notify}"
            queued = notify(
                session, ctx, episode, event="escalated", now=now, detail=detail,
                target=step.notify,
                extra={"escalation": {"step": index + 1, "after_min": step.after_min,
                                      "notify": step.notify}},
            )  # fmt: skip
            record(
                session, org_id=org_id, episode_id=episode.episode_id, kind="escalated", at=now,
                step=index,
                detail={"severity": episode.severity, "after_min": step.after_min,
                        "notify": step.notify, "due_at": due.isoformat(), "notifications": queued},
            )  # fmt: skip
            actions += 1
    return actions
