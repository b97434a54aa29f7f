"""Alert episodes (hub.serving's alert_episodes): the queue, acknowledge, resolve with a note.

The pipeline owns the detection columns (status open/closed, severity, thresholds); the
portal owns the workflow columns (acknowledged_*, resolved_*, resolution_note). The
history is the pipeline's alert_events plus the audit log's alert actions.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.portal.alerts.schemas import AlertDetail, AlertEvent, AlertRead
from hub.portal.audit import service as audit
from hub.portal.audit.models import AuditEvent
from hub.portal.auth.models import User
from hub.portal.errors import Conflict, NotFound
from hub.portal.pagination import PageParams
from hub.portal.tenancy import OrgScope
from hub.serving.models import AlertEpisode
from hub.serving.models import AlertEvent as PipelineEvent


def title_of(condition: str) -> str:
    return condition.replace("_", " ").capitalize()


def state_of(episode: AlertEpisode) -> str:
    if episode.resolved_at is not None:
        return "resolved"
    if episode.acknowledged_at is not None:
        return "acknowledged"
    return "open"


def read(episode: AlertEpisode) -> AlertRead:
    return AlertRead(
        id=episode.episode_id, station_id=episode.station_id,
        compressor_id=episode.compressor_id, condition=episode.condition,
        title=title_of(episode.condition), category=episode.category,
        severity=episode.severity if episode.severity in ("warning", "critical") else "warning",
        state=state_of(episode), active=episode.status == "open", opened_at=episode.opened_at,
        closed_at=episode.closed_at, peak_value=episode.peak_value,
        warning_threshold=episode.warning_threshold,
        critical_threshold=episode.critical_threshold,
        acknowledged_at=episode.acknowledged_at, acknowledged_by=episode.acknowledged_by,
        resolved_at=episode.resolved_at, resolved_by=episode.resolved_by,
        resolution_note=episode.resolution_note,
    )  # fmt: skip


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
    query = select(AlertEpisode).where(AlertEpisode.org_id == org_id)
    if state == "resolved":
        query = query.where(AlertEpisode.resolved_at.is_not(None))
    elif state == "acknowledged":
        query = query.where(
            AlertEpisode.acknowledged_at.is_not(None), AlertEpisode.resolved_at.is_(None)
        )
    elif state == "open":
        query = query.where(
            AlertEpisode.acknowledged_at.is_(None), AlertEpisode.resolved_at.is_(None)
        )
    if severity:
        query = query.where(AlertEpisode.severity == severity)
    if station_id:
        query = query.where(AlertEpisode.station_id == station_id)
    if compressor_id:
        query = query.where(AlertEpisode.compressor_id == compressor_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(AlertEpisode.opened_at.desc(), AlertEpisode.episode_id)
        .limit(params.limit)
        .offset(params.offset)
    ).all()
    return [read(row) for row in rows], int(total)


def get(*, session: Session, org_id: str, alert_id: str) -> AlertEpisode:
    episode = session.get(AlertEpisode, (org_id, alert_id))
    if episode is None:
        raise NotFound("No such alert.")
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
    history.sort(key=lambda e: e.at)
    return AlertDetail(**read(episode).model_dump(), history=history)


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
    rows = session.scalars(
        select(AlertEpisode)
        .where(AlertEpisode.org_id == org_id, AlertEpisode.compressor_id == compressor_id)
        .order_by(AlertEpisode.resolved_at.is_not(None), AlertEpisode.opened_at.desc())
        .limit(10)
    ).all()
    return [read(row) for row in rows]
