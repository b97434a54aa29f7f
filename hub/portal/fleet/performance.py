"""Compressor performance from the serving database, and the fleet ranked by how far each
unit has moved from its own baseline.

The figures of an hour are gold's (hub/lakehouse/performance.py over the hour's running
means), read from serving's hourly rows: null where the unit ran under 50 minutes of the
hour or its stages are unknown. Minutes carry no stored figures, so the last hour's are
shared.performance applied to the minute means here; the rod load, which needs the fleet
file's cylinder, is computed from the bucket means for every range."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.portal.billing import gates
from hub.portal.fleet import service, telemetry
from hub.serving.models import HourlyAggregate
from shared import performance as perf
from shared.errors import ConfigError
from shared.fleet import Cylinder, Fleet, load_fleet

log = logging.getLogger(__name__)

#: Hours count toward performance when the unit ran at least this many minutes of them.
MIN_RUNNING_MINUTES = perf.MIN_RUNNING_MINUTES_PER_HOUR
#: The baseline is the unit's median over this window, ending where the recent window starts.
BASELINE_DAYS = 14
RECENT_HOURS = 24


class PerformanceAssumptions(BaseModel):
    stage_inlet_temp_f: float = perf.DEFAULT_STAGE_INLET_TEMP_F
    gas_k: float = perf.DEFAULT_GAS_K
    gas_z: float = perf.DEFAULT_GAS_Z
    mechanical_efficiency: float = perf.DEFAULT_MECHANICAL_EFFICIENCY
    stages: int


class RodLoadRead(BaseModel):
    """Final-stage gas rod load per bucket, where the fleet file gives the cylinder."""

    bore_in: float
    rod_diameter_in: float
    rated_rod_load_lbf: float | None
    compression_lbf: list[float | None]
    tension_lbf: list[float | None]


class PerformanceRead(BaseModel):
    range: str
    t: list[float]
    stage_compression_ratio: list[float | None]
    ideal_discharge_temp_f: list[float | None]
    measured_discharge_temp_f: list[float | None]
    discharge_temp_excess_f: list[float | None]
    isentropic_gas_hp: list[float | None]
    brake_hp: list[float | None]
    adiabatic_efficiency: list[float | None]
    rod_load: RodLoadRead | None = None
    assumptions: PerformanceAssumptions
    #: The oldest moment the plan shows (None: all history); older buckets are left out.
    history_from: datetime | None = None


class UnitAgainstBaseline(BaseModel):
    compressor_id: str
    station_id: str
    baseline_efficiency: float | None
    recent_efficiency: float | None
    #: Percentage points: recent minus baseline adiabatic efficiency (negative = worse).
    efficiency_change_pts: float | None
    baseline_excess_f: float | None
    recent_excess_f: float | None
    #: Recent minus baseline discharge-temperature excess over ideal, °F (positive = worse).
    excess_change_f: float | None
    recent_hours: int
    baseline_hours: int


class FleetPerformance(BaseModel):
    baseline_days: int = BASELINE_DAYS
    recent_hours: int = RECENT_HOURS
    units: list[UnitAgainstBaseline]


def _array(values: list[Any]) -> np.ndarray:
    return np.array([np.nan if v is None else v for v in values], dtype=float)


def _listed(values: np.ndarray) -> list[float | None]:
    return [None if not np.isfinite(v) else round(float(v), 4) for v in values]


def _minute_figures(means: dict[str, np.ndarray], stages: int) -> dict[str, np.ndarray]:
    """Performance of each minute bucket (serving stores figures per hour only); NaN where
    the unit was not compressing or inputs miss."""
    suction, discharge = means["suction_pressure_psi"], means["discharge_pressure_psi"]
    brake_hp, flow = means["horsepower_consumption"], perf.mmscfd_from_mcfd(means["gas_flow_mcf"])
    inlet = perf.DEFAULT_STAGE_INLET_TEMP_F
    with np.errstate(invalid="ignore", divide="ignore"):
        compressing = (perf.psia_from_psig(suction) > 0) & (discharge > suction)
        ratio = np.where(
            compressing, perf.stage_compression_ratio(suction, discharge, stages), np.nan
        )
        ideal = perf.isentropic_discharge_temp_f(inlet, ratio)
        gas_hp = perf.isentropic_gas_hp(flow, inlet, ratio, stages)
        gas_hp = np.where((flow > 0) & (brake_hp > 0), gas_hp, np.nan)
        return {
            "stage_compression_ratio": ratio,
            "ideal_discharge_temp_f": ideal,
            "discharge_temp_excess_f": perf.discharge_temp_excess_f(
                means["discharge_temp_f"], ideal
            ),
            "isentropic_gas_hp": gas_hp,
            "adiabatic_efficiency": perf.adiabatic_efficiency(gas_hp, brake_hp),
        }


@lru_cache(maxsize=4)
def _fleet(path: Path) -> Fleet | None:
    try:
        return load_fleet(path)
    except (OSError, ValueError, ConfigError):
        log.warning("no fleet file at %s: rod loads are not shown", path)
        return None


def cylinder_of(fleet_path: Path | None, org_id: str, compressor_id: str) -> Cylinder | None:
    """The final-stage cylinder the fleet file gives this org's compressor, if any."""
    fleet = _fleet(fleet_path) if fleet_path is not None else None
    if fleet is None:
        return None
    try:
        station, unit = fleet.compressor(compressor_id)
        return unit.final_cylinder if fleet.org_of(station.id).id == org_id else None
    except (KeyError, ValueError, ConfigError):
        return None


def rod_load(means: dict[str, np.ndarray], stages: int, cylinder: Cylinder) -> RodLoadRead:
    suction, discharge = means["suction_pressure_psi"], means["discharge_pressure_psi"]
    with np.errstate(invalid="ignore"):
        last_suction = perf.final_stage_suction_psig(suction, discharge, stages)
        compression, tension = perf.gas_rod_load_lbf(
            last_suction, discharge, cylinder.bore_in, cylinder.rod_diameter_in
        )
    return RodLoadRead(
        bore_in=cylinder.bore_in, rod_diameter_in=cylinder.rod_diameter_in,
        rated_rod_load_lbf=cylinder.rated_rod_load_lbf,
        compression_lbf=_listed(compression), tension_lbf=_listed(tension),
    )  # fmt: skip


def compressor_performance(
    *, session: Session, org_id: str, compressor_id: str, range_name: str,
    cylinder: Cylinder | None = None,
) -> PerformanceRead:  # fmt: skip
    unit = service.get_compressor(session=session, org_id=org_id, compressor_id=compressor_id)
    stages = unit.stages or 1
    data = telemetry.series(
        session=session, org_id=org_id, compressor_id=compressor_id, range_name=range_name
    )
    means = {name: _array(values) for name, values in data.avg.items()}
    if data.figures:  # hourly buckets: gold's figures as stored
        figures = {name: _array(values) for name, values in data.figures.items()}
    else:  # minute buckets store none: the shared formulas over their means
        figures = _minute_figures(means, stages) if data.t else {}
    return PerformanceRead(
        range=range_name, t=data.t, history_from=data.history_from,
        measured_discharge_temp_f=_listed(means.get("discharge_temp_f", np.array([]))),
        brake_hp=_listed(means.get("horsepower_consumption", np.array([]))),
        assumptions=PerformanceAssumptions(stages=stages),
        rod_load=rod_load(means, stages, cylinder) if cylinder is not None and data.t else None,
        **{name: _listed(figures.get(name, np.array([]))) for name in (
            "stage_compression_ratio", "ideal_discharge_temp_f", "discharge_temp_excess_f",
            "isentropic_gas_hp", "adiabatic_efficiency")},
    )  # fmt: skip


def _median(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(np.median(finite)) if finite.size else None


def _change(recent: float | None, baseline: float | None, scale: float = 1.0) -> float | None:
    return None if recent is None or baseline is None else round((recent - baseline) * scale, 2)


def fleet_performance(*, session: Session, org_id: str) -> FleetPerformance:
    """Each unit's recent day against its own preceding two weeks, worst first (by efficiency
    drop, then by the rise of discharge temperature over ideal); only the units and the
    history the plan shows."""
    shown: list[Any] = [HourlyAggregate.org_id == org_id]
    hidden = gates.hidden_compressors(session=session, org_id=org_id)
    if hidden:
        shown.append(HourlyAggregate.compressor_id.not_in(hidden))
    history_from = gates.history_start(session=session, org_id=org_id)
    if history_from is not None:
        shown.append(HourlyAggregate.hour_start >= history_from)
    end = session.scalar(select(func.max(HourlyAggregate.hour_start)).where(*shown))
    if end is None:
        return FleetPerformance(units=[])
    recent_from = end - timedelta(hours=RECENT_HOURS - 1)
    start = recent_from - timedelta(days=BASELINE_DAYS)
    # Hours under the running minimum have no figures; leaving them out keeps the hour counts.
    rows = session.execute(
        select(HourlyAggregate.compressor_id, HourlyAggregate.station_id,
               HourlyAggregate.hour_start, HourlyAggregate.adiabatic_efficiency,
               HourlyAggregate.discharge_temp_excess_f)
        .where(*shown, HourlyAggregate.hour_start >= start,
               HourlyAggregate.n_running_minutes >= MIN_RUNNING_MINUTES)
        .order_by(HourlyAggregate.compressor_id, HourlyAggregate.hour_start)
    ).all()  # fmt: skip
    by_unit: dict[str, list[Any]] = {}
    for row in rows:
        by_unit.setdefault(row.compressor_id, []).append(row)
    units = []
    for compressor_id, unit_rows in by_unit.items():
        recent = np.array([as_utc(r.hour_start) >= as_utc(recent_from) for r in unit_rows])
        eff = _array([r.adiabatic_efficiency for r in unit_rows])
        excess = _array([r.discharge_temp_excess_f for r in unit_rows])
        base_eff, new_eff = _median(eff[~recent]), _median(eff[recent])
        base_excess, new_excess = _median(excess[~recent]), _median(excess[recent])
        units.append(
            UnitAgainstBaseline(
                compressor_id=compressor_id, station_id=unit_rows[0].station_id,
                baseline_efficiency=base_eff, recent_efficiency=new_eff,
                efficiency_change_pts=_change(new_eff, base_eff, 100.0),
                baseline_excess_f=base_excess, recent_excess_f=new_excess,
                excess_change_f=_change(new_excess, base_excess),
                recent_hours=int(recent.sum()), baseline_hours=int((~recent).sum()),
            )
        )  # fmt: skip
    units.sort(key=lambda u: (
        u.efficiency_change_pts if u.efficiency_change_pts is not None else float("inf"),
        -(u.excess_change_f or 0.0),
    ))  # fmt: skip
    return FleetPerformance(units=units)
