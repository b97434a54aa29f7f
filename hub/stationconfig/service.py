"""Prepare, sign and record station configurations; record what stations report.

Services take the session first and only flush: the request or the CLI's
`session_scope` owns the transaction.
"""

from __future__ import annotations

import difflib
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import yaml
from pydantic import ValidationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.db.models import Station
from hub.stationconfig.errors import InvalidConfigInput
from hub.stationconfig.models import StationConfigReport, StationConfigVersion
from hub.stationconfig.schemas import StationConfigRead
from shared.station_config import (
    SECTIONS,
    ConfigReport,
    SignedStationConfig,
    StationConfigDocument,
    sign_config,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey


def latest(*, session: Session, org_id: str, station_id: str) -> StationConfigVersion | None:
    return session.scalars(
        select(StationConfigVersion)
        .where(StationConfigVersion.org_id == org_id, StationConfigVersion.station_id == station_id)
        .order_by(StationConfigVersion.version.desc())
        .limit(1)
    ).first()


def report(*, session: Session, org_id: str, station_id: str) -> StationConfigReport | None:
    return session.get(StationConfigReport, (org_id, station_id))


def desired_sections(version: StationConfigVersion | None) -> dict[str, Any]:
    if version is None:
        return {}
    document = StationConfigDocument.model_validate(version.signed["document"])
    return document.sections()


def overview(*, session: Session, org_id: str) -> list[StationConfigRead]:
    """Every station of the org: the version the hub wants and what the station reported."""
    stations = session.scalars(
        select(Station).where(Station.org_id == org_id).order_by(Station.id)
    ).all()
    rows = []
    for station in stations:
        wanted = latest(session=session, org_id=org_id, station_id=station.id)
        said = report(session=session, org_id=org_id, station_id=station.id)
        rows.append(
            StationConfigRead(
                station_id=station.id, station_name=station.name,
                desired_version=wanted.version if wanted else None,
                desired_at=wanted.created_at if wanted else None,
                issued_by=wanted.issued_by if wanted else None,
                reported_version=said.version if said else None,
                outcome=said.outcome if said else None, reason=said.reason if said else None,
                running_version=said.running_version if said else None,
                reported_at=said.reported_at if said else None,
            )
        )  # fmt: skip
    return rows


def parse_sections(text: str) -> dict[str, Any]:
    """The sections an admin edited (YAML); InvalidConfigInput saying what is wrong."""
    try:
        data = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        raise InvalidConfigInput(f"not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidConfigInput("the configuration must be a mapping of sections")
    unknown = sorted(set(data) - set(SECTIONS))
    if unknown:
        raise InvalidConfigInput(
            f"unknown section(s) {unknown}; a configuration has {', '.join(SECTIONS)}"
        )
    return {k: v for k, v in data.items() if v is not None}


def sections_yaml(sections: dict[str, Any]) -> str:
    return yaml.safe_dump(sections, sort_keys=True, default_flow_style=False) if sections else ""


def diff(*, old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Unified diff of the two configurations as YAML (empty when they are the same)."""
    return list(
        difflib.unified_diff(
            sections_yaml(old).splitlines(),
            sections_yaml(new).splitlines(),
            fromfile="desired now",
            tofile="after push",
            lineterm="",
        )
    )


def _next_version(*, session: Session, org_id: str, station_id: str) -> int:
    pushed = session.scalar(
        select(func.max(StationConfigVersion.version)).where(
            StationConfigVersion.org_id == org_id, StationConfigVersion.station_id == station_id
        )
    )
    said = report(session=session, org_id=org_id, station_id=station_id)
    # A station never goes back to a lower version: stay above anything it has seen.
    seen = max(said.version or 0, said.running_version) if said else 0
    return max(pushed or 0, seen) + 1


def prepare(
    *,
    session: Session,
    org_id: str,
    station_id: str,
    sections: dict[str, Any],
    issued_by: str,
    signing_key: Ed25519PrivateKey,
) -> SignedStationConfig:
    """Validate, number, sign and record the next version for a station (not yet published)."""
    if session.get(Station, (org_id, station_id)) is None:
        raise InvalidConfigInput(f"no station {station_id} in {org_id}")
    version = _next_version(session=session, org_id=org_id, station_id=station_id)
    try:
        document = StationConfigDocument(
            org_id=org_id, station_id=station_id, version=version, issued_by=issued_by, **sections
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise InvalidConfigInput(f"{where}: {first['msg'].removeprefix('Value error, ')}") from None
    signed = sign_config(document, signing_key)
    session.add(
        StationConfigVersion(
            org_id=org_id, station_id=station_id, version=version,
            signed=signed.model_dump(mode="json"), issued_by=issued_by,
        )
    )  # fmt: skip
    session.flush()
    return signed


def record_report(*, session: Session, org_id: str, station_id: str, said: ConfigReport) -> bool:
    """Keep the station's latest report; an older one (re-delivered) changes nothing."""
    reported_at = as_utc(datetime.fromisoformat(said.at))
    row = report(session=session, org_id=org_id, station_id=station_id)
    if row is not None and as_utc(row.reported_at) > reported_at:
        return False
    if row is None:
        row = StationConfigReport(org_id=org_id, station_id=station_id)
        session.add(row)
    row.version, row.outcome, row.reason = said.version, said.outcome.value, said.reason
    row.running_version, row.reported_at = said.running_version, reported_at
    row.received_at = datetime.now(UTC)
    session.flush()
    return True
