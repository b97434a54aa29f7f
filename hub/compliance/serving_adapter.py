"""Calculator inputs from the serving database (hourly aggregates) and blowdown events.

Reads the serving database, not Delta (the lakehouse is being rebuilt; the pipeline
upserts its gold hourly aggregates here). The calculation code stays pure: this module
only turns rows into `CalculatorInputs`.

Hours per Subpart W mode, per compressor and hour row:
- operating = running minutes (`n_running_minutes`, measured by the edge);
- the rest of the hour is standby-pressurized when the hour's mean discharge pressure is
  above `pressurized_psig`, else not-operating-depressurized (an estimate: the serving
  tables keep no per-state minutes); the split is named in every line's `hours_source`;
- hours of the period with no row are `hours_without_data`: a "missing input" line.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.compliance.errors import InputError
from hub.compliance.schemas import (
    Blowdown,
    CalculatorInputs,
    Compressor,
    Facility,
    GasComposition,
    Measurement,
    PneumaticDevices,
)
from hub.db.models import Compressor as CompressorRow
from hub.db.models import Station
from hub.serving.models import HourlyAggregate, MaintenanceEvent

#: Discharge pressure above which a stopped unit counts as still pressurized (psig).
PRESSURIZED_PSIG = 50.0


@dataclass
class ModeHours:
    operating: float = 0.0
    standby_pressurized: float = 0.0
    not_operating_depressurized: float = 0.0
    hours_with_data: float = 0.0


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def mode_hours(
    session: Session, *, org_id: str, station_id: str, start: datetime, end: datetime,
    pressurized_psig: float = PRESSURIZED_PSIG,
) -> dict[str, ModeHours]:  # fmt: skip
    """Hours per mode of each compressor of the station in [start, end), from hourly rows."""
    rows = session.execute(
        select(HourlyAggregate.compressor_id, HourlyAggregate.n_running_minutes,
               HourlyAggregate.discharge_pressure_psi_mean)  # type: ignore[attr-defined]
        .where(HourlyAggregate.org_id == org_id, HourlyAggregate.station_id == station_id,
               HourlyAggregate.hour_start >= start, HourlyAggregate.hour_start < end)
    ).all()  # fmt: skip
    hours: dict[str, ModeHours] = {}
    for compressor_id, running_minutes, discharge_psig in rows:
        mode = hours.setdefault(compressor_id, ModeHours())
        running = min(max(running_minutes or 0, 0), 60) / 60.0
        stopped = 1.0 - running
        mode.operating += running
        if discharge_psig is not None and discharge_psig > pressurized_psig:
            mode.standby_pressurized += stopped
        else:
            mode.not_operating_depressurized += stopped
        mode.hours_with_data += 1.0
    return hours


def blowdowns_from_simulator(
    events: Iterable[Any], *, station_id: str, year: int,
    through: datetime | None = None, temperature: str | None = None, temperature_source: str = "",
) -> list[Blowdown]:  # fmt: skip
    """The simulator's blowdown events (blowdowns.parquet rows or `Simulation.blowdowns()`).

    Each carries the unit's blowdown volume (ft3) and settle-out pressure (psig); the gas
    temperature is not recorded, so it is `temperature` when the caller gives a typical
    operating temperature (an estimate it names in `temperature_source`), else missing.
    """
    out = []
    for item in events:
        event = item if isinstance(item, Mapping) else asdict(item)
        at = event.get("time") or datetime.fromtimestamp(int(event["time_s"]), UTC)
        at = _utc(at)
        if event["station_id"] != station_id or at.year != year or (through and at >= through):
            continue
        source = "simulator blowdown event (volume between isolation valves, settle-out pressure)"
        if temperature is not None:
            source += f"; gas temperature {temperature}: {temperature_source or 'typical operating temperature (estimate)'}"
        out.append(Blowdown(
            id=str(event["event_id"]), at=at, compressor_id=str(event["compressor_id"]),
            volume=f"{float(event['volume_ft3'])} ft3", pressure=f"{float(event['pressure_psig'])} psig",
            temperature=temperature, reason=str(event.get("reason") or ""), source=source,
        ))  # fmt: skip
    return out


def blowdowns_from_maintenance(
    session: Session, *, org_id: str, station_id: str, start: datetime, end: datetime
) -> list[Blowdown]:
    """Blowdowns recorded as maintenance events: the record has no volume, pressure or
    temperature, so each is a "missing input" line until the operator supplies them."""
    rows = session.scalars(
        select(MaintenanceEvent).where(
            MaintenanceEvent.org_id == org_id, MaintenanceEvent.station_id == station_id,
            MaintenanceEvent.kind == "blowdown", MaintenanceEvent.started_at >= start,
            MaintenanceEvent.started_at < end,
        )
    ).all()  # fmt: skip
    return [
        Blowdown(id=row.event_id, at=_utc(row.started_at), compressor_id=row.compressor_id,
                 reason=row.description or "", source=f"maintenance record ({row.source})")
        for row in rows
    ]  # fmt: skip


def station_inputs(
    session: Session, *, org_id: str, station_id: str, year: int, through: datetime | None = None,
    segment: str, gas_composition: GasComposition,
    measurements: Mapping[str, Sequence[Measurement]] | None = None,
    blowdowns: Sequence[Blowdown] = (), pneumatic_devices: Sequence[PneumaticDevices] = (),
    compressor_types: Mapping[str, str] | None = None,
) -> CalculatorInputs:  # fmt: skip
    """A station's calculator inputs for the year (to `through`, exclusive: year to date).

    Compressors default to reciprocating (the units Altaviz monitors); `compressor_types`
    names others. Blowdowns from maintenance records are added unless an event of the same
    id is given.
    """
    station = session.get(Station, (org_id, station_id))
    if station is None:
        raise InputError(f"no station {station_id} in organisation {org_id}")
    start = datetime(year, 1, 1, tzinfo=UTC)
    end = min(
        datetime(year + 1, 1, 1, tzinfo=UTC),
        _utc(through) if through else datetime.max.replace(tzinfo=UTC),
    )
    hours = mode_hours(session, org_id=org_id, station_id=station_id, start=start, end=end)
    period_hours = max((end - start) / timedelta(hours=1), 0.0)
    units = session.scalars(
        select(CompressorRow).where(CompressorRow.org_id == org_id, CompressorRow.station_id == station_id)
        .order_by(CompressorRow.id)
    ).all()  # fmt: skip
    compressors = []
    for unit in units:
        mode = hours.get(unit.id, ModeHours())
        kind = (compressor_types or {}).get(unit.id, "reciprocating")
        compressors.append(Compressor(
            id=unit.id, type="reciprocating" if kind == "reciprocating" else "centrifugal",
            seal=None if kind == "reciprocating" else kind.removeprefix("centrifugal_").removesuffix("_seal"),
            hours={"operating": round(mode.operating, 4), "standby_pressurized": round(mode.standby_pressurized, 4),
                   "not_operating_depressurized": round(mode.not_operating_depressurized, 4)},
            measurements=list((measurements or {}).get(unit.id, ())),
            hours_without_data=round(max(period_hours - mode.hours_with_data, 0.0), 4),
            hours_source=(f"serving hourly aggregates {start:%Y-%m-%d} .. {end:%Y-%m-%d %H:%M}: running minutes; "
                          f"stopped hours split by mean discharge pressure > {PRESSURIZED_PSIG:g} psig (estimate)"),
        ))  # fmt: skip
    given = {b.id for b in blowdowns}
    recorded = blowdowns_from_maintenance(
        session, org_id=org_id, station_id=station_id, start=start, end=end
    )
    return CalculatorInputs(
        facility=Facility(id=station_id, name=station.name, segment=segment),
        reporting_year=year, gas_composition=gas_composition, compressors=compressors,
        blowdowns=[*blowdowns, *(b for b in recorded if b.id not in given)],
        pneumatic_devices=list(pneumatic_devices),
    )  # fmt: skip
