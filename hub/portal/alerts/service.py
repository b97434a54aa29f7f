"""Alert episodes (hub.serving's alert_episodes): the queue, acknowledge, resolve with a note.

The pipeline owns the detection columns (status open/closed, severity, thresholds); the
portal owns the workflow columns (acknowledged_*, resolved_*, resolution_note). The
history is the pipeline's alert_events plus the audit log's alert actions plus the
workflows' timeline (escalations, auto-resolve, assignments, comments). The queue also
holds the alerts the workflows raise themselves (hub.workflows: station offline, sensor
data quality, alert rules), which have the same workflow columns.

The plan's history (billing.gates.history_start) applies: a resolved alert whose episode
ended before it is not shown (402 when asked for by id); an alert still active or not yet
resolved is work, not history, and is always shown. Alerts of compressors beyond the plan's
limit are shown too: an alarm is never held back by billing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import and_, func, literal, not_, select, union_all
from sqlalchemy.orm import Session

from hub.db.base import as_utc, utc_now
from hub.portal.alerts.schemas import AlertDetail, AlertEvent, AlertRead
from hub.portal.audit import service as audit
from hub.portal.audit.models import AuditEvent
from hub.portal.auth.models import User
from hub.portal.billing import gates
from hub.portal.errors import Conflict, NotFound
from hub.portal.pagination import PageParams
from hub.portal.tenancy import OrgScope
from hub.serving.models import AlertEpisode
from hub.serving.models import AlertEvent as PipelineEvent
from hub.workflows.models import WorkflowAlert
from hub.workflows.timeline import timeline as workflow_timeline

Alert = AlertEpisode | WorkflowAlert


def title_of(condition: str) -> str:
    return condition.replace("_", " ").capitalize()


def state_of(episode: Alert) -> str:
    if episode.resolved_at is not None:
        return "resolved"
    if episode.acknowledged_at is not None:
        return "acknowledged"
    return "open"


def read(episode: Alert) -> AlertRead:
    lakehouse = isinstance(episode, AlertEpisode)
    return AlertRead(
        source="lakehouse" if lakehouse else episode.source,  # type: ignore[union-attr]
        id=episode.episode_id, station_id=episode.station_id,
        compressor_id=episode.compressor_id, condition=episode.condition,
        title=title_of(episode.condition), category=episode.category,
        severity=episode.severity if episode.severity in ("warning", "critical") else "warning",
        state=state_of(episode), active=episode.status == "open", opened_at=episode.opened_at,
        closed_at=episode.closed_at,
        peak_value=episode.peak_value if lakehouse else episode.value,  # type: ignore[union-attr]
        warning_threshold=episode.warning_threshold if lakehouse else episode.threshold,  # type: ignore[union-attr]
        critical_threshold=episode.critical_threshold if lakehouse else None,  # type: ignore[union-attr]
        acknowledged_at=episode.acknowledged_at, acknowledged_by=episode.acknowledged_by,
        resolved_at=episode.resolved_at, resolved_by=episode.resolved_by,
        resolution_note=episode.resolution_note,
    )  # fmt: skip


def _before_history(model: Any, start: datetime) -> Any:
    """Resolved, and its episode opened and ended before the history the plan shows."""
    return and_(
        model.resolved_at.is_not(None), model.closed_at.is_not(None),
        model.opened_at < start, model.closed_at < start,
    )  # fmt: skip


def _queue_rows(
    model: Any,
    org_id: str,
    state: str | None,
    severity: str | None,
    station_id: str | None,
    compressor_id: str | None,
    history_from: datetime | None,
) -> Any:
    query = select(
        model.episode_id.label("id"), model.opened_at.label("opened_at"),
        literal(model.__tablename__).label("kind"),
    ).where(model.org_id == org_id)  # fmt: skip
    if history_from is not None:
        query = query.where(not_(_before_history(model, history_from)))
    if model is WorkflowAlert:
        query = query.where(WorkflowAlert.archived_at.is_(None))
    if state == "resolved":
        query = query.where(model.resolved_at.is_not(None))
    elif state == "acknowledged":
        query = query.where(model.acknowledged_at.is_not(None), model.resolved_at.is_(None))
    elif state == "open":
        query = query.where(model.acknowledged_at.is_(None), model.resolved_at.is_(None))
    if severity:
        query = query.where(model.severity == severity)
    if station_id:
        query = query.where(model.station_id == station_id)
    if compressor_id:
        query = query.where(model.compressor_id == compressor_id)
    return query


def list_alerts(
    *,
    session: Session,
    org_id: str,
    params: PageParams,
    state: str | None,
    severity: str | None,
    station_id: str | None,
    compressor_id: str | None,
) -> tuple[list[AlertRead], int]:
    history_from = gates.history_start(session=session, org_id=org_id)
    both = union_all(
        *(_queue_rows(model, org_id, state, severity, station_id, compressor_id, history_from)
          for model in (AlertEpisode, WorkflowAlert))
    ).subquery()  # fmt: skip
    total = session.scalar(select(func.count()).select_from(both)) or 0
    page = session.execute(
        select(both.c.id, both.c.kind)
        .order_by(both.c.opened_at.desc(), both.c.id)
        .limit(params.limit)
        .offset(params.offset)
    ).all()
    rows: list[Alert | None] = [
        session.get(AlertEpisode, (org_id, id_))
        if kind == AlertEpisode.__tablename__
        else session.get(WorkflowAlert, (org_id, id_))
        for id_, kind in page
    ]
    return [read(row) for row in rows if row is not None], int(total)


def get(*, session: Session, org_id: str, alert_id: str) -> Alert:
    episode: Alert | None = session.get(AlertEpisode, (org_id, alert_id))
    episode = episode or session.get(WorkflowAlert, (org_id, alert_id))
    if episode is None:
        raise NotFound("No such alert.")
    if episode.resolved_at is not None and episode.closed_at is not None:
        ended = max(as_utc(episode.opened_at), as_utc(episode.closed_at))
        gates.require_history(session=session, org_id=org_id, newest=ended)
    return episode


def get_detail(*, session: Session, org_id: str, alert_id: str) -> AlertDetail:
    episode = get(session=session, org_id=org_id, alert_id=alert_id)
    history = [
        AlertEvent(at=e.at, action=f"pipeline: {e.kind}", by=None, note=None)
        for e in session.scalars(
            select(PipelineEvent).where(
                PipelineEvent.org_id == org_id, PipelineEvent.episode_id == alert_id
            )
        )
        if e.kind not in ("opened", "closed")  # shown from the episode itself
    ]
    for event in session.scalars(
        select(AuditEvent).where(
            AuditEvent.org_id == org_id,
            AuditEvent.target == alert_id,
            AuditEvent.action.in_(("alert.acknowledged", "alert.resolved")),
        )
    ):
        history.append(
            AlertEvent(
                at=event.at, action=event.action.split(".", 1)[1], by=event.actor_email,
                note=(event.detail or {}).get("note"),
            )
        )  # fmt: skip
    for entry in workflow_timeline(session, org_id, alert_id):
        history.append(
            AlertEvent(at=entry.at, action=f"workflows: {entry.kind}", by=entry.actor,
                       note=_describe(entry.kind, entry.step, entry.detail))
        )  # fmt: skip
    history.sort(key=lambda e: e.at)
    return AlertDetail(**read(episode).model_dump(), history=history)


def _describe(kind: str, step: int | None, detail: dict[str, Any]) -> str | None:
    if kind == "escalated":
        return f"step {(step or 0) + 1}: unacknowledged {detail.get('after_min')} min, notified {detail.get('notify')}"
    if kind == "assigned":
        return f"assigned to {detail.get('email') or 'nobody'}"
    return detail.get("note") or detail.get("message") or detail.get("reason")


def _actor(session: Session, scope: OrgScope) -> str:
    user = session.get(User, scope.user_id)
    return user.email if user else scope.user_id


def acknowledge(*, session: Session, scope: OrgScope, alert_id: str, note: str | None) -> None:
    episode = get(session=session, org_id=scope.org_id, alert_id=alert_id)
    if episode.resolved_at is not None:
        raise Conflict("This alert is already resolved.")
    if episode.acknowledged_at is None:
        actor = _actor(session, scope)
        episode.acknowledged_at = utc_now()
        episode.acknowledged_by = actor
        audit.record(
            session=session, action="alert.acknowledged", org_id=scope.org_id,
            actor_user_id=scope.user_id, actor_email=actor, target=alert_id,
            detail={"note": note} if note else {},
        )  # fmt: skip
    session.flush()


def resolve(*, session: Session, scope: OrgScope, alert_id: str, note: str) -> None:
    episode = get(session=session, org_id=scope.org_id, alert_id=alert_id)
    if episode.resolved_at is not None:
        raise Conflict("This alert is already resolved.")
    actor = _actor(session, scope)
    now = utc_now()
    if episode.acknowledged_at is None:
        episode.acknowledged_at, episode.acknowledged_by = now, actor
    episode.resolved_at, episode.resolved_by, episode.resolution_note = now, actor, note
    audit.record(
        session=session, action="alert.resolved", org_id=scope.org_id,
        actor_user_id=scope.user_id, actor_email=actor, target=alert_id, detail={"note": note},
    )  # fmt: skip
    session.flush()


def summaries_for_compressor(
    *, session: Session, org_id: str, compressor_id: str
) -> list[AlertRead]:
    """Unresolved and the last few resolved alert episodes of one compressor."""
    history_from = gates.history_start(session=session, org_id=org_id)
    kept = [] if history_from is None else [not_(_before_history(AlertEpisode, history_from))]
    rows = session.scalars(
        select(AlertEpisode)
        .where(AlertEpisode.org_id == org_id, AlertEpisode.compressor_id == compressor_id, *kept)
        .order_by(AlertEpisode.resolved_at.is_not(None), AlertEpisode.opened_at.desc())
        .limit(10)
    ).all()
    return [read(row) for row in rows]
