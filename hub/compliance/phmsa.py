"""PHMSA 49 CFR 191/192: incident screening with its report clocks, integrity-management
conditions with their remediation clocks, and the annual report's data.

The criteria and clocks in force on the event date come from rules/phmsa.yaml; an input
not given makes its criterion "undetermined" (never "not met").
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from hub.compliance import rules as rule_data
from hub.compliance.errors import InputError
from hub.compliance.units import parse_quantity, standard_volume_scf

FacilityKind = Literal["compressor_station", "pipeline", "lng_facility", "underground_storage"]
Verdict = Literal["met", "not_met", "undetermined"]


class IncidentEvent(BaseModel):
    """What is known about a release or shutdown (all optional but the id and times)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1, max_length=128)
    org_id: str = ""
    station_id: str = ""
    facility_kind: FacilityKind = "compressor_station"
    description: str = ""
    occurred_at: datetime
    confirmed_discovery_at: datetime
    detected_at: datetime | None = None
    gas_released: str | None = None
    release_intentional: bool | None = None
    property_damage_usd: float | None = Field(default=None, ge=0)
    fatalities: int | None = Field(default=None, ge=0)
    inpatient_injuries: int | None = Field(default=None, ge=0)
    emergency_shutdown: bool | None = None
    emergency_actual: bool | None = None
    operator_judgment_significant: bool = False


@dataclass(frozen=True)
class Criterion:
    name: str
    verdict: Verdict
    detail: str
    citation: str


@dataclass(frozen=True)
class ReportClock:
    name: str
    due_at: datetime
    citation: str
    status: str

    def state(self, now: datetime) -> str:
        return "overdue" if now > self.due_at else "open"


@dataclass(frozen=True)
class Screening:
    event: IncidentEvent
    criteria: list[Criterion]
    clocks: list[ReportClock] = field(default_factory=list)
    rule_citation: str = ""

    @property
    def reportable(self) -> str:
        """yes | no | undetermined."""
        verdicts = {c.verdict for c in self.criteria}
        if "met" in verdicts:
            return "yes"
        return "undetermined" if "undetermined" in verdicts else "no"

    def as_json(self, now: datetime | None = None) -> dict[str, Any]:
        now = now or datetime.now(UTC)
        return {
            "event": self.event.model_dump(mode="json"),
            "incident": self.reportable,
            "rule": self.rule_citation,
            "criteria": [c.__dict__ for c in self.criteria],
            "clocks": [
                {"name": c.name, "due_at": c.due_at.isoformat(), "citation": c.citation,
                 "rule_status": c.status, "state": c.state(now)}
                for c in self.clocks
            ],
        }  # fmt: skip


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def screen_incident(event: IncidentEvent) -> Screening:
    """Screen an event against the 49 CFR 191.3 criteria in force on its date."""
    criteria = rule_data.incident_criteria(_aware(event.occurred_at).date())
    phmsa = rule_data.phmsa_file()
    found = [
        _harm(event, criteria.citation),
        _damage(event, criteria),
        _gas_loss(event, criteria),
        _shutdown(event, phmsa.emergency_shutdown.citation),
        Criterion("operator judgment", "met" if event.operator_judgment_significant else "not_met",
                  "significant in the operator's judgment" if event.operator_judgment_significant else "not flagged by the operator",
                  "49 CFR 191.3 'Incident' (3)"),
    ]  # fmt: skip
    screening = Screening(event=event, criteria=found, rule_citation=criteria.citation)
    if screening.reportable == "no":
        return screening
    discovered = _aware(event.confirmed_discovery_at)
    detected = _aware(event.detected_at) if event.detected_at else discovered
    clocks = []
    for name, clock in phmsa.clocks.items():
        start = discovered if clock.after == "confirmed_discovery" else detected
        span = timedelta(hours=clock.hours or 0.0, days=clock.days or 0.0)
        clocks.append(ReportClock(name, start + span, clock.citation, clock.status))
    return Screening(event=event, criteria=found, clocks=clocks, rule_citation=criteria.citation)


def _harm(event: IncidentEvent, citation: str) -> Criterion:
    name = "death or in-patient hospitalisation"
    if event.fatalities is None or event.inpatient_injuries is None:
        return Criterion(
            name, "undetermined", "fatalities / in-patient injuries not given", f"{citation} (1)(i)"
        )
    harmed = event.fatalities + event.inpatient_injuries
    detail = f"{event.fatalities} fatality(ies), {event.inpatient_injuries} in-patient injury(ies)"
    return Criterion(name, "met" if harmed else "not_met", detail, f"{citation} (1)(i)")


def _damage(event: IncidentEvent, criteria: rule_data.IncidentCriteria) -> Criterion:
    name = "property damage (excluding gas lost)"
    cite = f"{criteria.citation} (1)(ii)"
    if event.property_damage_usd is None:
        return Criterion(name, "undetermined", "estimated property damage not given", cite)
    threshold = criteria.property_damage_usd
    if threshold is None:
        return Criterion(name, "undetermined",
                         f"${event.property_damage_usd:,.0f}; the threshold in force on this date is not loaded: check PHMSA's notice", cite)  # fmt: skip
    met = event.property_damage_usd >= threshold
    return Criterion(
        name,
        "met" if met else "not_met",
        f"${event.property_damage_usd:,.0f} vs ${threshold:,.0f}",
        cite,
    )


def _gas_loss(event: IncidentEvent, criteria: rule_data.IncidentCriteria) -> Criterion:
    name = "unintentional gas loss"
    cite = f"{criteria.citation} (1)(iii)"
    if event.gas_released is None:
        return Criterion(name, "undetermined", "estimated gas released not given", cite)
    scf = standard_volume_scf(
        parse_quantity(event.gas_released, field="gas_released"), field="gas_released"
    )
    mmcf = scf / 1e6
    if event.release_intentional:
        return Criterion(
            name,
            "not_met",
            f"{mmcf:,.3f} MMcf released intentionally (e.g. a planned blowdown)",
            cite,
        )
    if event.release_intentional is None and mmcf >= criteria.gas_loss_mmcf:
        return Criterion(
            name,
            "undetermined",
            f"{mmcf:,.3f} MMcf; whether the release was intentional is not given",
            cite,
        )
    met = mmcf >= criteria.gas_loss_mmcf
    return Criterion(
        name,
        "met" if met else "not_met",
        f"{mmcf:,.3f} MMcf vs {criteria.gas_loss_mmcf:g} MMcf",
        cite,
    )


def _shutdown(event: IncidentEvent, citation: str) -> Criterion:
    name = "emergency shutdown"
    if not event.emergency_shutdown:
        return Criterion(name, "not_met", "no emergency shutdown", citation)
    if event.facility_kind not in ("lng_facility", "underground_storage"):
        return Criterion(
            name,
            "not_met",
            f"an ESD at a {event.facility_kind.replace('_', ' ')} is not criterion (2) by itself",
            citation,
        )
    if event.emergency_actual is None:
        return Criterion(
            name,
            "undetermined",
            "whether the ESD answered an actual emergency is not given",
            citation,
        )
    return Criterion(name, "met" if event.emergency_actual else "not_met",
                     "ESD for an actual emergency" if event.emergency_actual else "ESD activated for other than an actual emergency", citation)  # fmt: skip


def load_event(path: Path) -> IncidentEvent:
    try:
        text = path.read_text()
        document = json.loads(text) if path.suffix.lower() == ".json" else yaml.safe_load(text)
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"{path}: not valid YAML/JSON: {exc}") from None
    try:
        return IncidentEvent.model_validate(document)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise InputError(
            f"{path}: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}"
        ) from None


# -- integrity management ---------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """An anomaly confirmed by the models or rules, as a 49 CFR 192.933 condition."""

    id: str
    station_id: str
    description: str
    discovered_on: date
    category: str
    action: str
    due_on: date | None
    citation: str
    remediated_on: date | None = None

    def state(self, today: date) -> str:
        if self.remediated_on is not None:
            return "remediated"
        if self.due_on is None:
            return "monitored"
        return "overdue" if today > self.due_on else "open"


def im_condition(*, condition_id: str, station_id: str, description: str, discovered_on: date,
                 category: str | None, remediated_on: date | None = None) -> Condition:  # fmt: skip
    """A condition with the remediation clock of its category (rules in force at discovery).

    Unclassified: the operator must classify it; the clock shown is the discovery period.
    """
    version = rule_data.im_version(discovered_on)
    im = rule_data.phmsa_file().integrity_management
    if category is None:
        return Condition(condition_id, station_id, description, discovered_on, "unclassified",
                         "classify (immediate / scheduled / monitored) and record the discovery",
                         discovered_on + timedelta(days=im.discovery_days), im.discovery_citation, remediated_on)  # fmt: skip
    rule = version.categories.get(category)
    if rule is None:
        raise InputError(f"condition {condition_id}: category {category!r} is not one of {sorted(version.categories)} "
                         f"for conditions discovered on {discovered_on.isoformat()}")  # fmt: skip
    due = discovered_on + timedelta(days=rule.days) if rule.days is not None else None
    return Condition(condition_id, station_id, description, discovered_on, category, rule.action, due,
                     version.citation, remediated_on)  # fmt: skip
