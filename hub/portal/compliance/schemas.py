"""Compliance API bodies and responses (the calculator's own schemas live in hub.compliance)."""

from __future__ import annotations

from datetime import date
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class StationComplianceRead(BaseModel):
    station_id: str
    station_name: str
    configured: bool
    reporting_year: int
    rule_version: str | None = None
    co2e_t: float | None = None
    by_source_co2e_t: dict[str, float | None] = Field(default_factory=dict)
    missing_inputs: int = 0
    threshold_status: str | None = None
    open_clocks: int = 0
    conditions: int = 0
    error: str | None = None


class ConditionWrite(BaseModel):
    model_config = ConfigDict(extra="forbid")

    condition_id: str = Field(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")
    station_id: str = Field(min_length=1, max_length=64)
    discovered_on: date
    #: immediate | two_year | monitored (the categories in force at discovery); null: unclassified.
    category: str | None = None
    description: str = ""
    remediated_on: date | None = None
    episode_id: str | None = None


class ConditionRead(BaseModel):
    id: str
    station_id: str
    description: str
    discovered_on: date
    category: str
    action: str
    due_on: date | None
    state: str
    citation: str


ScreeningRead = dict[str, Any]
