"""The compliance page's data: the plan gate, per-station year to date, clocks, conditions."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.compliance import service as compliance
from hub.compliance.annual_report import AnnualField, annual_report_fields
from hub.compliance.errors import ComplianceError
from hub.compliance.phmsa import Condition, IncidentEvent
from hub.compliance.report import FacilityResult
from hub.compliance.schemas import StationProfile
from hub.compliance.service import NotConfigured, UnknownStation
from hub.db.models import Compressor, Organization, Station
from hub.portal.billing.gates import require_feature
from hub.portal.compliance.schemas import ConditionRead, ConditionWrite, StationComplianceRead
from hub.portal.errors import InvalidInput, NotFound, PortalError

FEATURE = "compliance"


def require_compliance(*, session: Session, org_id: str) -> None:
    """Compliance is a plan feature: a plan without it answers 402 (upgrade under Billing)."""
    require_feature(org_id, FEATURE, session=session)


def station_or_404(*, session: Session, org_id: str, station_id: str) -> Station:
    station = session.get(Station, (org_id, station_id))
    if station is None:
        raise NotFound("No such station.")
    return station


def portal_error(exc: ComplianceError) -> PortalError:
    """The compliance package's errors as the portal's (mapped to HTTP in one place)."""
    if isinstance(exc, UnknownStation):
        return NotFound("No such station.")
    return InvalidInput(str(exc))


def period(year: int | None) -> tuple[int, datetime]:
    """(reporting year, through): year to date for the current year, else the whole year."""
    now = datetime.now(UTC)
    chosen = year or now.year
    through = min(now, datetime(chosen + 1, 1, 1, tzinfo=UTC))
    return chosen, through


def condition_read(condition: Condition, today: date) -> ConditionRead:
    return ConditionRead(
        id=condition.id, station_id=condition.station_id, description=condition.description,
        discovered_on=condition.discovered_on, category=condition.category, action=condition.action,
        due_on=condition.due_on, state=condition.state(today), citation=condition.citation,
    )  # fmt: skip


def station_result(
    *, session: Session, org_id: str, station_id: str, year: int | None
) -> FacilityResult:
    chosen, through = period(year)
    try:
        return compliance.station_result(
            session=session, org_id=org_id, station_id=station_id, year=chosen, through=through
        )
    except ComplianceError as exc:
        raise portal_error(exc) from None


def overview(*, session: Session, org_id: str, year: int | None) -> list[StationComplianceRead]:
    chosen, through = period(year)
    now = datetime.now(UTC)
    rows = []
    stations = session.scalars(
        select(Station).where(Station.org_id == org_id).order_by(Station.id)
    ).all()
    for station in stations:
        clocks = sum(
            c.state(now) == "open"
            for s in compliance.incidents(session=session, org_id=org_id, station_id=station.id)
            for c in s.clocks
        )
        conditions = compliance.conditions(session=session, org_id=org_id, station_id=station.id)
        row = StationComplianceRead(station_id=station.id, station_name=station.name, configured=False, reporting_year=chosen,
                                    open_clocks=clocks, conditions=len(conditions))  # fmt: skip
        try:
            result = compliance.station_result(
                session=session, org_id=org_id, station_id=station.id, year=chosen, through=through
            )
        except NotConfigured:
            rows.append(row)
            continue
        except ComplianceError as exc:
            rows.append(row.model_copy(update={"configured": True, "error": str(exc)}))
            continue
        by_source = {s: result.totals(s).co2e_t for s in {line.source for line in result.lines}}
        rows.append(row.model_copy(update={
            "configured": True, "rule_version": result.rules.version.id, "co2e_t": round(result.totals().co2e_t, 3),
            "by_source_co2e_t": {k: round(v, 3) for k, v in sorted(by_source.items())},
            "missing_inputs": len(result.missing), "threshold_status": result.threshold_status(),
        }))  # fmt: skip
    return rows


def phmsa_annual_fields(*, session: Session, org_id: str, year: int) -> list[AnnualField]:
    org = session.get(Organization, org_id)
    stations = session.scalars(select(Station.id).where(Station.org_id == org_id)).all()
    compressors = session.scalar(
        select(func.count()).select_from(Compressor).where(Compressor.org_id == org_id)
    )
    return annual_report_fields(
        operator=org.name if org else "", year=year, stations=list(stations), compressor_count=compressors or 0,
        screenings=compliance.incidents(session=session, org_id=org_id),
        conditions=compliance.conditions(session=session, org_id=org_id),
    )  # fmt: skip


def put_profile(
    *, session: Session, org_id: str, station_id: str, profile: StationProfile, user: str
) -> None:
    try:
        compliance.put_profile(
            session=session, org_id=org_id, station_id=station_id, profile=profile, user=user
        )
    except ComplianceError as exc:
        raise portal_error(exc) from None


def record_incident(
    *, session: Session, org_id: str, event: IncidentEvent, user: str
) -> dict[str, Any]:
    try:
        return compliance.record_incident(
            session=session, org_id=org_id, event=event, user=user
        ).as_json()
    except ComplianceError as exc:
        raise portal_error(exc) from None


def record_condition(*, session: Session, org_id: str, body: ConditionWrite) -> ConditionRead:
    try:
        condition = compliance.record_condition(session=session, org_id=org_id, **body.model_dump())
    except ComplianceError as exc:
        raise portal_error(exc) from None
    return condition_read(condition, datetime.now(UTC).date())


def station_events(
    *, session: Session, org_id: str, station_id: str
) -> tuple[list[dict[str, Any]], list[ConditionRead]]:
    """The station's screened events (with clock states now) and its IM conditions."""
    now = datetime.now(UTC)
    incidents = [
        s.as_json(now)
        for s in compliance.incidents(session=session, org_id=org_id, station_id=station_id)
    ]
    conditions = [
        condition_read(c, now.date())
        for c in compliance.conditions(session=session, org_id=org_id, station_id=station_id)
    ]
    return incidents, conditions
