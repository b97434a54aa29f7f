"""Work orders as the API and the CSV import see them (pydantic: XCreate / XClose / XRead)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AliasChoices, BaseModel, ConfigDict, Field, StringConstraints

from shared.ids import ID_PATTERN

WORK_ORDER_TYPES = ("inspection", "repair", "replacement", "failure", "planned_shutdown")
COMPONENTS = (
    "valves", "rod_packing", "rings", "bearings", "pistons", "crosshead", "crankshaft",
    "cylinder", "lubrication", "cooler", "driver", "instrumentation", "other",
)  # fmt: skip
STATUSES = ("open", "assigned", "closed")
VERDICTS = ("confirmed", "dismissed")
#: No C0 control characters except tab, newline and carriage return.
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

WorkOrderType = Literal["inspection", "repair", "replacement", "failure", "planned_shutdown"]
Component = Literal[
    "valves", "rod_packing", "rings", "bearings", "pistons", "crosshead", "crankshaft",
    "cylinder", "lubrication", "cooler", "driver", "instrumentation", "other",
]  # fmt: skip
Status = Literal["open", "assigned", "closed"]
Verdict = Literal["confirmed", "dismissed"]


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("needs a time zone (e.g. 2026-03-01T08:00:00Z)")
    return moment


AwareDatetime = Annotated[datetime, AfterValidator(_aware)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=4000, pattern=PRINTABLE)]
Title = Annotated[str, StringConstraints(strip_whitespace=True, max_length=200, pattern=PRINTABLE)]
Person = Annotated[str, StringConstraints(strip_whitespace=True, max_length=320, pattern=PRINTABLE)]
Part = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=PRINTABLE)
]
#: A year at most: a longer outage is a decommissioning, not a work order.
DowntimeHours = Annotated[float, Field(ge=0, le=8784)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class WorkOrderCreate(_Strict):
    """A work order by hand (`compressor_id`) or from an alert episode (`episode_id`)."""

    type: WorkOrderType
    compressor_id: str | None = Field(default=None, pattern=ID_PATTERN, max_length=64)
    episode_id: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    title: Title = ""
    component: Component | None = None
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    parts: list[Part] = Field(default_factory=list, max_length=50)
    downtime_hours: DowntimeHours | None = None
    notes: Text | None = None
    assigned_to: Person | None = None


class WorkOrderAssign(_Strict):
    assigned_to: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=320, pattern=PRINTABLE),
    ]


class WorkOrderClose(_Strict):
    ended_at: AwareDatetime | None = None
    downtime_hours: DowntimeHours | None = None
    parts: list[Part] | None = Field(default=None, max_length=50)
    component: Component | None = None
    notes: Text | None = None


class AttachmentRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    attachment_id: str
    filename: str
    content_type: str
    size_bytes: int
    sha256: str
    uploaded_by: str | None
    uploaded_at: datetime


class WorkOrderRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str = Field(validation_alias=AliasChoices("event_id", "id"))
    type: str = Field(validation_alias=AliasChoices("kind", "type"))
    status: str
    title: str
    compressor_id: str
    station_id: str
    episode_id: str | None
    component: str | None
    started_at: datetime
    ended_at: datetime | None
    parts: list[str] | None
    downtime_hours: float | None
    notes: str | None = Field(validation_alias=AliasChoices("description", "notes"))
    assigned_to: str | None
    performed_by: str | None
    source: str
    created_by: str | None
    created_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    external_id: str | None


class WorkOrderDetail(WorkOrderRead):
    attachments: list[AttachmentRead] = Field(default_factory=list)


class ReviewBody(_Strict):
    verdict: Verdict
    note: Text | None = None


class ReviewRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    episode_id: str
    verdict: str
    note: str | None
    reviewed_by: str | None
    reviewed_at: datetime


class RejectedRow(BaseModel):
    row: int  # 1 = the first data row (the header is row 0)
    field: str
    message: str


class ImportReport(BaseModel):
    """What a CSV import did: every row imported, or none (with the rows at fault)."""

    imported: int
    already_present: int
    rejected: list[RejectedRow]


class ConditionTuning(BaseModel):
    condition: str
    episodes: int
    confirmed: int
    dismissed: int
    unreviewed: int
    #: confirmed / (confirmed + dismissed); None until something is reviewed.
    precision: float | None
    median_minutes_active_dismissed: float | None
    #: Hours from an episode opening to the failure work order opened from it (median).
    median_lead_h_to_failure: float | None = None
    suggestion: str


class TuningReport(BaseModel):
    conditions: list[ConditionTuning]
