"""Work orders: create (by hand or from an alert episode), assign, close, list; reviews of
episodes. Services take the session first and only flush: the request or job commits."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.db.models import Compressor
from hub.maintenance.errors import InvalidWorkOrder, UnknownObject, WrongState
from hub.maintenance.models import EpisodeReview, WorkOrderAttachment
from hub.maintenance.schemas import WorkOrderClose, WorkOrderCreate
from hub.serving.models import AlertEpisode, MaintenanceEvent

log = logging.getLogger(__name__)


def new_work_order_id() -> str:
    return "wo-" + uuid.uuid4().hex[:20]


def _compressor(session: Session, org_id: str, compressor_id: str) -> Compressor:
    found = session.get(Compressor, (org_id, compressor_id))
    if found is None:  # another org's compressor is not visible: the same answer
        raise UnknownObject(f"No compressor {compressor_id!r} in this organisation.")
    return found


def _episode(session: Session, org_id: str, episode_id: str) -> AlertEpisode:
    found = session.get(AlertEpisode, (org_id, episode_id))
    if found is None:
        raise UnknownObject(f"No alert episode {episode_id!r} in this organisation.")
    return found


def _check_times(started_at: datetime, ended_at: datetime | None) -> None:
    if ended_at is not None and ended_at < started_at:
        raise InvalidWorkOrder(
            "The work ends before it starts.",
            details=[{"loc": ["ended_at"], "message": "must not be before started_at"}],
        )


def create(
    *,
    session: Session,
    org_id: str,
    actor: str | None,
    data: WorkOrderCreate,
    source: str = "operator",
) -> MaintenanceEvent:
    """A work order on one of the org's compressors; from an episode, its unit and time."""
    episode = _episode(session, org_id, data.episode_id) if data.episode_id else None
    compressor_id = data.compressor_id or (episode.compressor_id if episode else None)
    if compressor_id is None:
        raise InvalidWorkOrder(
            "Name the compressor (compressor_id) or the alert episode (episode_id).",
            details=[{"loc": ["compressor_id"], "message": "required without episode_id"}],
        )
    if episode is not None and episode.compressor_id != compressor_id:
        raise InvalidWorkOrder(
            "The alert episode is on another compressor.",
            details=[
                {"loc": ["compressor_id"], "message": f"the episode is on {episode.compressor_id}"}
            ],
        )
    compressor = _compressor(session, org_id, compressor_id)
    started_at = data.started_at or (episode.opened_at if episode else utc_now())
    _check_times(started_at, data.ended_at)
    title = data.title or (
        f"{data.type.replace('_', ' ').capitalize()}: {episode.condition.replace('_', ' ')}"
        if episode
        else data.type.replace("_", " ").capitalize()
    )
    order = MaintenanceEvent(
        org_id=org_id, event_id=new_work_order_id(), compressor_id=compressor.id,
        station_id=compressor.station_id, kind=data.type, title=title,
        component=data.component, started_at=started_at, ended_at=data.ended_at,
        description=data.notes, parts=list(data.parts), downtime_hours=data.downtime_hours,
        assigned_to=data.assigned_to, status="assigned" if data.assigned_to else "open",
        source=source, episode_id=episode.episode_id if episode else None, created_by=actor,
        created_at=utc_now(),
    )  # fmt: skip
    session.add(order)
    session.flush()
    log.info("work order %s (%s) on %s in %s", order.event_id, order.kind, compressor.id, org_id)
    return order


def get(*, session: Session, org_id: str, work_order_id: str) -> MaintenanceEvent:
    found = session.get(MaintenanceEvent, (org_id, work_order_id))
    if found is None:
        raise UnknownObject("No such work order.")
    return found


def assign(
    *, session: Session, org_id: str, work_order_id: str, assigned_to: str
) -> MaintenanceEvent:
    order = get(session=session, org_id=org_id, work_order_id=work_order_id)
    if order.status == "closed":
        raise WrongState("This work order is closed.")
    order.assigned_to, order.status = assigned_to, "assigned"
    session.flush()
    return order


def close(
    *, session: Session, org_id: str, work_order_id: str, actor: str | None, data: WorkOrderClose
) -> MaintenanceEvent:
    order = get(session=session, org_id=org_id, work_order_id=work_order_id)
    if order.status == "closed":
        raise WrongState("This work order is already closed.")
    ended_at = data.ended_at or utc_now()
    _check_times(order.started_at, ended_at)
    order.ended_at = ended_at
    if data.downtime_hours is not None:
        order.downtime_hours = data.downtime_hours
    if data.parts is not None:
        order.parts = list(data.parts)
    if data.component is not None:
        order.component = data.component
    if data.notes:
        order.description = (
            f"{order.description}\n{data.notes}" if order.description else data.notes
        )
    order.status, order.closed_at, order.closed_by = "closed", utc_now(), actor
    order.performed_by = order.performed_by or order.assigned_to or actor
    session.flush()
    return order


def query(
    *, org_id: str, compressor_id: str | None = None, status: str | None = None,
    kind: str | None = None, episode_id: str | None = None,
) -> Select[Any]:  # fmt: skip
    """The org's work orders, newest first, filtered."""
    statement = select(MaintenanceEvent).where(MaintenanceEvent.org_id == org_id)
    if compressor_id:
        statement = statement.where(MaintenanceEvent.compressor_id == compressor_id)
    if status:
        statement = statement.where(MaintenanceEvent.status == status)
    if kind:
        statement = statement.where(MaintenanceEvent.kind == kind)
    if episode_id:
        statement = statement.where(MaintenanceEvent.episode_id == episode_id)
    return statement.order_by(MaintenanceEvent.started_at.desc(), MaintenanceEvent.event_id)


def list_orders(
    *, session: Session, statement: Select[Any], limit: int, offset: int
) -> tuple[Sequence[MaintenanceEvent], int]:
    total = session.scalar(select(func.count()).select_from(statement.order_by(None).subquery()))
    rows = session.scalars(statement.limit(limit).offset(offset)).all()
    return rows, int(total or 0)


def attachments_of(
    *, session: Session, org_id: str, work_order_id: str
) -> Sequence[WorkOrderAttachment]:
    return session.scalars(
        select(WorkOrderAttachment)
        .where(WorkOrderAttachment.org_id == org_id, WorkOrderAttachment.event_id == work_order_id)
        .order_by(WorkOrderAttachment.uploaded_at)
    ).all()


def review_episode(
    *, session: Session, org_id: str, episode_id: str, verdict: str, note: str | None,
    actor: str | None,
) -> EpisodeReview:  # fmt: skip
    """Confirm (a real problem) or dismiss (a false alarm) an episode; the latest verdict wins."""
    _episode(session, org_id, episode_id)
    review = session.get(EpisodeReview, (org_id, episode_id))
    if review is None:
        review = EpisodeReview(org_id=org_id, episode_id=episode_id)
        session.add(review)
    review.verdict, review.note, review.reviewed_by = verdict, note, actor
    review.reviewed_at = utc_now()
    session.flush()
    return review


def review_of(*, session: Session, org_id: str, episode_id: str) -> EpisodeReview | None:
    return session.get(EpisodeReview, (org_id, episode_id))
