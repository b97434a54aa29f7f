"""Year-to-date Subpart W per station for the demo: serving database + simulator blowdowns.

The demo (hub/demo, another package) calls `stations_ytd` after its run and prints each
station's CO2e; the exports land under the directory it passes (e.g. var/demo/compliance).
Stand-ins the demo needs, each named in the lines it produces:
- as-found rod-packing rates: the fleet file's packing rate per throw x throws (the asset
  register a real operator keeps from 98.234 surveys); other vent sources stay missing;
- gas: the station's methane mole fraction from the fleet file; CO2 mole fraction the
  estimator's engineering default (rules/emission_factors.yaml, status `default`);
- blowdown gas temperature: the station's mean ambient + 30 degF (the simulator's
  settle-out gas), an estimate of typical operating conditions.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select

from hub.compliance.exports import write_facility_exports
from hub.compliance.factors import load_emission_factors
from hub.compliance.report import FacilityResult, calculate
from hub.compliance.schemas import (
    GasComposition,
    Measurement,
    Segment,
    StationMeasurement,
    StationProfile,
)
from hub.compliance.service import put_profile
from hub.compliance.serving_adapter import blowdowns_from_simulator, station_inputs
from hub.db.models import Station
from hub.db.session import session_scope
from shared.fleet import Fleet

SETTLE_OUT_ABOVE_AMBIENT_F = 30.0


@dataclass(frozen=True)
class StationYtd:
    station_id: str
    result: FacilityResult
    exports: list[Path]

    @property
    def co2e_t(self) -> float:
        return self.result.totals().co2e_t

    def summary_line(self) -> str:
        missing = len(self.result.missing)
        state = "complete" if not missing else f"{missing} input(s) missing"
        return (f"{self.station_id}: {self.co2e_t:,.3f} t CO2e year to date "
                f"(Subpart W {self.result.rules.version.id}; {state}; threshold {self.result.threshold_status()})")  # fmt: skip


def fleet_measurements(fleet: Fleet, station_id: str) -> dict[str, list[Measurement]]:
    """Rod-packing vent per unit from the fleet file, as the as-found value in both pressurized modes."""
    out: dict[str, list[Measurement]] = {}
    for station, unit in fleet.compressors():
        packing = unit.characteristics.packing_leak_scfh_per_throw
        if station.id != station_id or packing is None:
            continue
        rate = f"{packing * unit.throws:g} scfh"
        out[unit.id] = [
            Measurement(mode=mode, source="rod_packing", rate=rate, method="fleet file packing rate x throws (demo asset register)")
            for mode in ("operating", "standby_pressurized")
        ]  # fmt: skip
    return out


def stations_ytd(
    engine: Engine, *, org_id: str, fleet: Fleet, year: int, through: datetime,
    blowdown_events: Iterable[Any], out_dir: Path,
) -> list[StationYtd]:  # fmt: skip
    """Each station's year-to-date Subpart W result, with its exports under out_dir/<station>/."""
    co2 = load_emission_factors().reciprocating_compressor_venting.gas_co2_mole_fraction
    events = list(blowdown_events)
    stations = {s.id: s for s in fleet.stations()}
    results = []
    with session_scope(engine, org_id=org_id) as session:
        ids = session.scalars(
            select(Station.id).where(Station.org_id == org_id).order_by(Station.id)
        ).all()
        for station_id in ids:
            station = stations.get(station_id)
            if station is None:
                continue
            gas_f = station.climate.mean_temp_f + SETTLE_OUT_ABOVE_AMBIENT_F
            inputs = station_inputs(
                session, org_id=org_id, station_id=station_id, year=year, through=through,
                segment=subpart_w_segment(station.segment),
                gas_composition=GasComposition(ch4_mole_fraction=station.line.methane_mole_fraction,
                                               co2_mole_fraction=co2.value,
                                               source=f"CH4: fleet file; CO2: {co2.citation} ({co2.status})"),
                measurements=fleet_measurements(fleet, station_id),
                blowdowns=blowdowns_from_simulator(
                    events, station_id=station_id, year=year, through=through, temperature=f"{gas_f:g} degF",
                    temperature_source="station mean ambient + 30 degF, typical operating conditions (estimate)"),
            )  # fmt: skip
            result = calculate(inputs, year=year)
            exports = write_facility_exports(result, out_dir / station_id)
            results.append(StationYtd(station_id, result, exports))
    return results


def subpart_w_segment(fleet_segment: str) -> Segment:
    """The Subpart W industry segment of a fleet-file station (its `segment`)."""
    segments: dict[str, Segment] = {
        "transmission": "transmission_compression",  # §98.230(a)(4)
        "gathering_boosting": "gathering_boosting",  # §98.230(a)(9)
    }
    return segments[fleet_segment]


def demo_profile(fleet: Fleet, station_id: str) -> StationProfile:
    """The station profile the demo seeds for the portal (same stand-ins as `stations_ytd`)."""
    station = next(s for s in fleet.stations() if s.id == station_id)
    co2 = load_emission_factors().reciprocating_compressor_venting.gas_co2_mole_fraction
    return StationProfile(
        segment=subpart_w_segment(station.segment),
        gas_composition=GasComposition(ch4_mole_fraction=station.line.methane_mole_fraction, co2_mole_fraction=co2.value,
                                       source=f"CH4: fleet file; CO2: {co2.citation} ({co2.status})"),
        measurements=[StationMeasurement(compressor_id=unit_id, **m.model_dump(exclude={"rate"}), rate=m.rate)
                      for unit_id, ms in fleet_measurements(fleet, station_id).items() for m in ms],
        blowdown_temperature=f"{station.climate.mean_temp_f + SETTLE_OUT_ABOVE_AMBIENT_F:g} degF",
    )  # fmt: skip


def seed_demo_profiles(engine: Engine, *, org_id: str, fleet: Fleet) -> list[str]:
    """Write the demo profile of every station of the org that the fleet file knows (idempotent)."""
    known = {s.id for s in fleet.stations()}
    with session_scope(engine, org_id=org_id) as session:
        ids = [
            s
            for s in session.scalars(select(Station.id).where(Station.org_id == org_id)).all()
            if s in known
        ]
        for station_id in ids:
            put_profile(session=session, org_id=org_id, station_id=station_id,
                        profile=demo_profile(fleet, station_id), user="demo")  # fmt: skip
    return ids
