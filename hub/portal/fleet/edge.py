"""What a station's edge agent last reported, and the alarms it raised on site."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.serving.models import EdgeAlarm, StationLink

#: The newest edge alarms shown per station.
RECENT_ALARMS = 20


class EdgeLinkRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    online: bool
    agent_version: str
    model_id: str | None
    model_version: str | None
    last_model_update: dict[str, Any] | None
    backlog_readings: int
    unacked_batches: int
    last_seq: int | None
    active_alarms: int
    forced_out_readings: int
    clock_jumps: int
    buffer_bytes: int | None
    panels: dict[str, Any]
    reported_at: datetime
    received_at: datetime


class EdgeAlarmRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    episode_id: str
    compressor_id: str
    condition: str
    severity: str
    event: str
    raised_at: datetime
    cleared_at: datetime | None
    metric: str | None
    value: float | None
    threshold: float | None
    peak_value: float | None
    message: str


class StationEdgeRead(BaseModel):
    """`link` is null until the station's agent has reported once."""

    link: EdgeLinkRead | None
    alarms: list[EdgeAlarmRead]


def station_edge(*, session: Session, org_id: str, station_id: str) -> StationEdgeRead:
    link = session.get(StationLink, (org_id, station_id))
    alarms = session.scalars(
        select(EdgeAlarm)
        .where(EdgeAlarm.org_id == org_id, EdgeAlarm.station_id == station_id)
        .order_by(EdgeAlarm.raised_at.desc())
        .limit(RECENT_ALARMS)
    ).all()
    return StationEdgeRead(
        link=EdgeLinkRead.model_validate(link) if link else None,
        alarms=[EdgeAlarmRead.model_validate(a) for a in alarms],
    )
