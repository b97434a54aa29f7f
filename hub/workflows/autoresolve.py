"""Auto-resolve: an alert whose condition has been clear for the org's hysteresis window
resolves itself, leaves the queue and says why. If the condition comes back, the
lakehouse (or the raising workflow) opens a new alert."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from hub.workflows.context import WorkflowContext, org_policy
from hub.workflows.notify import notify
from hub.workflows.timeline import SYSTEM, record, unresolved


def auto_resolve(session: Session, ctx: WorkflowContext, org_id: str, now: datetime) -> int:
    policy = org_policy(session, org_id, ctx.settings.defaults)
    if not policy.auto_resolve_enabled:
        return 0
    window = timedelta(minutes=policy.auto_resolve_after_min)
    actions = 0
    for episode in unresolved(session, org_id):
        since = ctx.clearance.clear_since(session, episode, now)
        if since is None or now - since < window:
            continue
        note = (
            f"Resolved automatically: the condition has been clear since "
            f"{since:%Y-%m-%d %H:%M} UTC ({policy.auto_resolve_after_min} min hysteresis)."
        )
        episode.resolved_at, episode.resolved_by, episode.resolution_note = now, SYSTEM, note
        record(
            session, org_id=org_id, episode_id=episode.episode_id, kind="auto_resolved", at=now,
            detail={"clear_since": since.isoformat(), "note": note},
        )  # fmt: skip
        notify(
            session, ctx, episode, event="resolved", now=now, detail="condition cleared, resolved"
        )
        actions += 1
    session.flush()
    return actions
