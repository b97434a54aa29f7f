"""What the portal sends and reads: policies, rules, contact points, preferences, the
delivery log, job runs and alert timelines. Validation names the offending field."""

from __future__ import annotations

import math
import re
from datetime import datetime
from functools import cache
from typing import Annotated, Any, Literal, Self
from zoneinfo import available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from hub.workflows.settings import OrgDefaults, Severity
from shared.ids import ID_PATTERN
from shared.schema import SENSOR_FIELDS

#: Model score kinds the serving database carries (predictions.score_kind).
SCORE_KINDS = ("anomaly", "health", "rul_hours", "temp_forecast_f")
CHANNEL_KINDS = ("webhook", "slack", "teams", "sms", "email")
PRINTABLE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100, pattern=PRINTABLE)
]
ClockTime = Annotated[str, StringConstraints(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]
Phone = Annotated[str, StringConstraints(pattern=r"^\+[1-9]\d{6,14}$")]
Severities = Annotated[list[Severity], Field(min_length=1, max_length=2)]


def _all_severities() -> list[Severity]:
    return ["warning", "critical"]


def _email_only() -> list[Literal["email", "sms"]]:
    return ["email"]


@cache
def _zones() -> frozenset[str]:
    return frozenset(available_timezones())


class PolicyUpdate(OrgDefaults):
    """An organisation's workflow policy (every field; what GET returns can be PUT back)."""

    @field_validator("escalation")
    @classmethod
    def _ordered_steps(cls, ladder: dict[str, list[Any]]) -> dict[str, list[Any]]:
        return {
            severity: sorted(steps, key=lambda s: s.after_min) for severity, steps in ladder.items()
        }


class PolicyRead(PolicyUpdate):
    version: int
    updated_by: str | None
    updated_at: datetime | None


class RuleCreate(BaseModel):
    """A rule on one sensor's per-minute mean or on one model score, never both."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    sensor: str | None = Field(
        None, max_length=64, description=f"One of {', '.join(SENSOR_FIELDS)}"
    )
    score_kind: str | None = Field(
        None, max_length=64, description=f"One of {', '.join(SCORE_KINDS)}"
    )
    comparison: Literal[">", ">=", "<", "<="]
    value: float
    #: Minutes the comparison must hold (the serving database keeps the last hour of minutes).
    for_min: int = Field(ge=1, le=60)
    severity: Severity
    scope: Literal["org", "station", "compressor"] = "org"
    scope_id: Annotated[str, StringConstraints(pattern=ID_PATTERN)] | None = None
    enabled: bool = True

    @field_validator("sensor")
    @classmethod
    def _known_sensor(cls, sensor: str | None) -> str | None:
        if sensor is not None and sensor not in SENSOR_FIELDS:
            raise ValueError(f"unknown sensor {sensor!r}; known: {', '.join(SENSOR_FIELDS)}")
        return sensor

    @field_validator("score_kind")
    @classmethod
    def _known_score(cls, kind: str | None) -> str | None:
        if kind is not None and kind not in SCORE_KINDS:
            raise ValueError(f"unknown score kind {kind!r}; known: {', '.join(SCORE_KINDS)}")
        return kind

    @field_validator("value")
    @classmethod
    def _finite(cls, value: float) -> float:
        if not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    def problem(self) -> tuple[str, str] | None:
        """(field, message) of a combination the fields alone cannot refuse (the service
        checks it after finding the rule, so a missing rule is a 404, not a 422)."""
        if self.sensor is None and self.score_kind is None:
            return "sensor", "give a sensor (or a score_kind)"
        if self.sensor is not None and self.score_kind is not None:
            return "score_kind", "give a sensor or a score_kind, not both"
        if self.scope != "org" and self.scope_id is None:
            return "scope_id", f"name the {self.scope} the rule applies to"
        if self.scope == "org" and self.scope_id is not None:
            return "scope_id", "an organisation-wide rule has no scope_id"
        return None


class RuleRead(RuleCreate):
    model_config = ConfigDict(extra="ignore")

    rule_id: str
    version: int
    created_by: str | None
    created_at: datetime


class ChannelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name
    kind: Literal["webhook", "slack", "teams", "sms", "email"]
    #: webhook, slack, teams, sms: the URL to POST to (https:// outside development).
    url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    #: email: the address (a team's list).
    email: EmailStr | None = None
    severities: Severities = Field(default_factory=_all_severities)
    enabled: bool = True

    @field_validator("url")
    @classmethod
    def _a_url(cls, url: str | None) -> str | None:
        if url is not None and not re.match(r"^https?://[^\s/?#]+[^\s]*$", url):
            raise ValueError("must be an http(s):// URL")
        return url

    @model_validator(mode="after")
    def _target(self) -> Self:
        if self.kind == "email" and (self.email is None or self.url is not None):
            raise ValueError("an e-mail contact point has an email and no url")
        if self.kind != "email" and (self.url is None or self.email is not None):
            raise ValueError(f"a {self.kind} contact point has a url and no email")
        return self


class ChannelRead(BaseModel):
    id: str
    name: str
    kind: str
    target: str
    severities: list[str]
    enabled: bool
    created_at: datetime


class ChannelCreated(ChannelRead):
    #: The signing key for X-Altaviz-Signature, shown this once.
    secret: str


class PreferenceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    channels: list[Literal["email", "sms"]] = Field(default_factory=_email_only, max_length=2)
    severities: Severities = Field(default_factory=_all_severities)
    phone: Phone | None = None
    quiet_start: ClockTime | None = None
    quiet_end: ClockTime | None = None
    timezone: str = Field("UTC", max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, zone: str) -> str:
        if zone != "UTC" and zone not in _zones():
            raise ValueError(f"unknown time zone {zone!r}")
        return zone

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if "sms" in self.channels and self.phone is None:
            raise ValueError("sms needs a phone number (+ and country code)")
        if (self.quiet_start is None) != (self.quiet_end is None):
            raise ValueError("quiet hours need both quiet_start and quiet_end")
        return self


class PreferenceRead(PreferenceUpdate):
    user_id: str


class NotificationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    episode_id: str | None
    event: str
    channel: str
    recipient: str
    severity: str
    subject: str
    data_time: datetime
    created_at: datetime
    status: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    last_status: int | None
    sent_at: datetime | None


class JobRunRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    job: str
    tick: int
    data_time: datetime
    started_at: datetime
    finished_at: datetime
    outcome: str
    actions: int
    error: str | None
    runner: str


class TimelineEntry(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    at: datetime
    kind: str
    actor: str
    step: int | None
    detail: dict[str, Any]


class AssignBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A member's user id; null unassigns.
    user_id: Annotated[str, StringConstraints(max_length=32)] | None


class CommentBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000, pattern=PRINTABLE),
    ]
