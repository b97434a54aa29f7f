"""Compliance services for the portal and jobs: profiles, year-to-date results, incidents,
integrity conditions. Keyword-only, session first; they flush, the caller commits."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.compliance.errors import ComplianceError, InputError
from hub.compliance.models import ComplianceCondition, ComplianceIncident, ComplianceProfile
from hub.compliance.phmsa import Condition, IncidentEvent, Screening, im_condition, screen_incident
from hub.compliance.report import FacilityResult, calculate
from hub.compliance.schemas import (
    GasComposition,
    Measurement,
    PneumaticDevices,
    StationProfile,
)
from hub.compliance.serving_adapter import station_inputs
from hub.db.base import as_utc
from hub.db.models import Station
from hub.serving.models import AlertEpisode


class NotConfigured(ComplianceError):
    """The station has no compliance profile yet (segment, gas analysis)."""


class UnknownStation(ComplianceError):
    """No such station in the organisation."""


def _station(session: Session, org_id: str, station_id: str) -> Station:
    station = session.get(Station, (org_id, station_id))
    if station is None:
        raise UnknownStation(f"no station {station_id}")
    return station


def get_profile(*, session: Session, org_id: str, station_id: str) -> ComplianceProfile | None:
    return session.get(ComplianceProfile, (org_id, station_id))


def put_profile(
    *, session: Session, org_id: str, station_id: str, profile: StationProfile, user: str
) -> ComplianceProfile:
    _station(session, org_id, station_id)
    row = get_profile(session=session, org_id=org_id, station_id=station_id)
    if row is None:
        row = ComplianceProfile(org_id=org_id, station_id=station_id)
        session.add(row)
    row.segment = profile.segment
    row.ch4_mole_fraction = profile.gas_composition.ch4_mole_fraction
    row.co2_mole_fraction = profile.gas_composition.co2_mole_fraction
    row.gas_source = profile.gas_composition.source
    row.measurements = [
        m.model_dump(mode="json") | {"rate": str(m.rate)} for m in profile.measurements
    ]
    row.pneumatic_devices = [
        p.model_dump(mode="json") | {"vented": str(p.vented) if p.vented else None} for p in profile.pneumatic_devices
    ]  # fmt: skip
    row.blowdown_temperature = (
        str(profile.blowdown_temperature) if profile.blowdown_temperature else None
    )
    row.updated_by = user
    session.flush()
    return row


def station_result(
    *, session: Session, org_id: str, station_id: str, year: int, through: datetime
) -> FacilityResult:
    """The station's Subpart W result for the year up to `through` (year to date)."""
    _station(session, org_id, station_id)
    profile = get_profile(session=session, org_id=org_id, station_id=station_id)
    if profile is None:
        raise NotConfigured(
            f"station {station_id} has no compliance profile (segment and gas analysis)"
        )
    measurements: dict[str, list[Measurement]] = defaultdict(list)
    for item in profile.measurements:
        fields = {k: v for k, v in item.items() if k != "compressor_id"}
        measurements[item["compressor_id"]].append(Measurement.model_validate(fields))
    devices = [
        PneumaticDevices.model_validate({k: v for k, v in d.items() if v is not None})
        for d in profile.pneumatic_devices
    ]
    inputs = station_inputs(
        session, org_id=org_id, station_id=station_id, year=year, through=through, segment=profile.segment,
        gas_composition=GasComposition(ch4_mole_fraction=profile.ch4_mole_fraction,
                                       co2_mole_fraction=profile.co2_mole_fraction, source=profile.gas_source),
        measurements=measurements, pneumatic_devices=devices,
    )  # fmt: skip
    if profile.blowdown_temperature:
        inputs = inputs.model_copy(update={"blowdowns": [
            b if b.temperature is not None or b.volume is None
            else b.model_copy(update={"temperature": profile.blowdown_temperature, "source": f"{b.source}; typical temperature from the station profile"})
            for b in inputs.blowdowns
        ]})  # fmt: skip
    return calculate(inputs, year=year)


def record_incident(*, session: Session, org_id: str, event: IncidentEvent, user: str) -> Screening:
    """Screen an event and keep it (re-screening the same id replaces it)."""
    if not event.station_id:
        raise InputError("station_id: the station of the event is required")
    _station(session, org_id, event.station_id)
    screening = screen_incident(event)
    row = session.get(ComplianceIncident, (org_id, event.id)) or ComplianceIncident(
        org_id=org_id, incident_id=event.id
    )
    row.station_id = event.station_id
    row.event = event.model_dump(mode="json")
    row.verdict = screening.reportable
    row.screened_at = datetime.now(UTC)
    row.screened_by = user
    session.add(row)
    session.flush()
    return screening


def incidents(*, session: Session, org_id: str, station_id: str | None = None) -> list[Screening]:
    query = select(ComplianceIncident).where(ComplianceIncident.org_id == org_id)
    if station_id is not None:
        query = query.where(ComplianceIncident.station_id == station_id)
    rows = session.scalars(query.order_by(ComplianceIncident.screened_at.desc())).all()
    return [screen_incident(IncidentEvent.model_validate(row.event)) for row in rows]


def get_incident(*, session: Session, org_id: str, incident_id: str) -> Screening | None:
    row = session.get(ComplianceIncident, (org_id, incident_id))
    return None if row is None else screen_incident(IncidentEvent.model_validate(row.event))


def conditions(*, session: Session, org_id: str, station_id: str | None = None) -> list[Condition]:
    """Recorded conditions plus every acknowledged (confirmed) alert episode not yet recorded,
    the latter unclassified with the discovery clock."""
    query = select(ComplianceCondition).where(ComplianceCondition.org_id == org_id)
    alerts = select(AlertEpisode).where(
        AlertEpisode.org_id == org_id, AlertEpisode.acknowledged_at.is_not(None)
    )
    if station_id is not None:
        query = query.where(ComplianceCondition.station_id == station_id)
        alerts = alerts.where(AlertEpisode.station_id == station_id)
    recorded = session.scalars(query).all()
    out = [
        im_condition(condition_id=r.condition_id, station_id=r.station_id, description=r.description,
                     discovered_on=r.discovered_on, category=r.category, remediated_on=r.remediated_on)
        for r in recorded
    ]  # fmt: skip
    linked = {r.episode_id for r in recorded if r.episode_id}
    for episode in session.scalars(alerts).all():
        if episode.episode_id in linked:
            continue
        acknowledged = (
            as_utc(episode.acknowledged_at).date() if episode.acknowledged_at else date.today()
        )
        out.append(im_condition(
            condition_id=episode.episode_id, station_id=episode.station_id, category=None, discovered_on=acknowledged,
            description=f"{episode.condition.replace('_', ' ')} on {episode.compressor_id} (alert confirmed {acknowledged.isoformat()})",
        ))  # fmt: skip
    return sorted(out, key=lambda c: (c.due_on or date.max, c.id))


def record_condition(*, session: Session, org_id: str, condition_id: str, station_id: str, discovered_on: date,
                     category: str | None, description: str = "", remediated_on: date | None = None,
                     episode_id: str | None = None) -> Condition:  # fmt: skip
    """Record or classify a condition; the category is checked against the rules in force."""
    _station(session, org_id, station_id)
    condition = im_condition(condition_id=condition_id, station_id=station_id, description=description,
                             discovered_on=discovered_on, category=category, remediated_on=remediated_on)  # fmt: skip
    row = session.get(ComplianceCondition, (org_id, condition_id)) or ComplianceCondition(
        org_id=org_id, condition_id=condition_id
    )
    values: dict[str, Any] = {"station_id": station_id, "description": description, "discovered_on": discovered_on,
                              "category": category, "remediated_on": remediated_on, "episode_id": episode_id}  # fmt: skip
    for key, value in values.items():
        setattr(row, key, value)
    session.add(row)
    session.flush()
    return condition
