from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.portal.pagination import Page
from shared.ids import ID_PATTERN

StationIdField = Annotated[str, StringConstraints(pattern=ID_PATTERN, max_length=64)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class StationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: StationIdField
    name: Text
    basin: Annotated[str, StringConstraints(max_length=100)] | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class StationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Text | None = None
    basin: Annotated[str, StringConstraints(max_length=100)] | None = None
    latitude: float | None = Field(None, ge=-90, le=90)
    longitude: float | None = Field(None, ge=-180, le=180)


class StationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    basin: str | None
    latitude: float | None
    longitude: float | None


class CompressorRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    station_id: str
    model: str | None
    driver: str | None
    rated_hp: float | None
    stages: int | None


class StationCredentialRead(BaseModel):
    username: str
    #: The station may publish and subscribe only under this prefix.
    topic_prefix: str
    rotated_at: datetime


class StationCredentialIssued(StationCredentialRead):
    #: Shown once; the portal keeps only a mosquitto PBKDF2 hash.
    password: str


StationPage = Page[StationRead]
CompressorPage = Page[CompressorRead]
