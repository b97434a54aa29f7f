from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from hub.portal.pagination import Page
from hub.portal.types import Note, RequiredNote

AlertState = Literal["open", "acknowledged", "resolved"]
Severity = Literal["warning", "critical"]


class AlertRead(BaseModel):
    id: str
    #: lakehouse (a gold episode) or the workflow that raised it: freshness | data_quality | rule
    source: str = "lakehouse"
    station_id: str
    #: None for a station-wide alert (station offline).
    compressor_id: str | None
    condition: str
    title: str
    category: str
    severity: Severity
    #: open -> acknowledged -> resolved (the portal's workflow on top of the episode).
    state: AlertState
    #: Whether the condition is still present in the data (the episode is open).
    active: bool
    opened_at: datetime
    closed_at: datetime | None
    peak_value: float | None
    warning_threshold: float | None
    critical_threshold: float | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    resolved_at: datetime | None
    resolved_by: str | None
    resolution_note: str | None


class AlertEvent(BaseModel):
    at: datetime
    action: str
    by: str | None
    note: str | None


class AlertDetail(AlertRead):
    history: list[AlertEvent]


class AcknowledgeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: Note | None = None


class ResolveBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: RequiredNote


AlertPage = Page[AlertRead]
