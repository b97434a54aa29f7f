"""Alert episodes (from the serving tables): the queue, acknowledge, resolve with a note."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from hub.portal.alerts.schemas import AlertDetail, AlertRead
from hub.portal.errors import NotFound
from hub.portal.pagination import PageParams
from hub.portal.tenancy import OrgScope


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
    return [], 0


def get_detail(*, session: Session, org_id: str, alert_id: str) -> AlertDetail:
    raise NotFound("No such alert.")


def acknowledge(*, session: Session, scope: OrgScope, alert_id: str, note: str | None) -> None:
    raise NotFound("No such alert.")


def resolve(*, session: Session, scope: OrgScope, alert_id: str, note: str) -> None:
    raise NotFound("No such alert.")


def summaries_for_compressor(*, session: Session, org_id: str, compressor_id: str) -> list[Any]:
    """Open and recent alert episodes of one compressor."""
    return []
