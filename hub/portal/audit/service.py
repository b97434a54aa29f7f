"""Recording security-relevant actions (services call `record`, the request commits)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.portal.audit.models import AuditEvent
from hub.portal.pagination import PageParams, paginate


def record(
    *,
    session: Session,
    action: str,
    org_id: str | None = None,
    actor_user_id: str | None = None,
    actor_email: str | None = None,
    target: str | None = None,
    outcome: str = "success",
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add one audit event; client address and request id come from the session's context."""
    event = AuditEvent(
        org_id=org_id,
        action=action,
        actor_user_id=actor_user_id,
        actor_email=actor_email,
        target=target,
        outcome=outcome,
        client_ip=session.info.get("request_ip"),
        request_id=session.info.get("request_id"),
        detail=detail or {},
    )
    session.add(event)
    session.flush()
    return event


def list_for_org(
    *, session: Session, org_id: str, params: PageParams, action: str | None = None
) -> tuple[list[AuditEvent], int]:
    query = select(AuditEvent).where(AuditEvent.org_id == org_id)
    if action:
        query = query.where(AuditEvent.action == action)
    return paginate(session, query.order_by(AuditEvent.at.desc(), AuditEvent.id), params)
