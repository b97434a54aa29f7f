"""The fleet as arrays: one entry per simulated compressor, in station then unit order."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from shared.fleet import Compressor, Fleet, Station
from shared.register_map import RegisterMap, find_register_map
from shared.schema import SENSOR_FIELDS
from simulator.errors import SimulatorError

RANKINE = 459.67
ATMOSPHERE_PSI = 14.7
#: Horsepower per MMscfd per °R of (k/(k-1)) * Z * T1 * (r^((k-1)/k) - 1): isentropic
#: compression at 14.7 psia / 60 °F base conditions (1.9859 Btu/lbmol-°R, 379.5 scf/lbmol).
HP_CONSTANT = 0.0857


@dataclass
class UnitTable:
    """Static per-unit parameters as numpy arrays (length = number of units)."""

    compressor_ids: list[str]
    station_ids: list[str]
    stations: list[Station]
    register_maps: list[RegisterMap]
    #: Index into `stations` per unit.
    station_index: np.ndarray
    #: Position of the unit within its station (poll order) and the station's unit count.
    position: np.ndarray
    station_size: np.ndarray
    #: The first unit of each station (station-level parameters are read from it).
    first_unit: np.ndarray
    params: dict[str, np.ndarray] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.compressor_ids)

    def __getitem__(self, name: str) -> np.ndarray:
        return self.params[name]

    def map_groups(self, idx: np.ndarray) -> list[tuple[RegisterMap, np.ndarray]]:
        """Rows of `idx` grouped by register map (the maps of their stations)."""
        names = np.array([self.register_maps[s].name for s in self.station_index[idx]])
        groups = []
        for name in sorted(set(names.tolist())):
            rows = names == name
            groups.append((self.register_maps[int(self.station_index[idx][rows][0])], rows))
        return groups

    def units_of(self, station_id: str) -> np.ndarray:
        return np.flatnonzero(np.array(self.station_ids) == station_id)

    def index_of(self, compressor_id: str) -> int:
        try:
            return self.compressor_ids.index(compressor_id)
        except ValueError:
            raise SimulatorError(
                f"compressor {compressor_id!r} is not in the simulated fleet"
            ) from None


def _unit_params(station: Station, compressor: Compressor) -> dict[str, float]:
    c = compressor.characteristics
    driver = compressor.driver
    return {
        "stages": float(compressor.stages),
        "throws": float(compressor.throws),
        "rated_hp": compressor.rated_hp,
        "rated_rpm": driver.rated_speed_rpm,
        "heat_rate": driver.heat_rate_btu_per_bhp_h or 0.0,
        "gas_k": station.line.gas_k,
        "gas_z": station.line.gas_z,
        "methane_fraction": station.line.methane_mole_fraction,
        "ps_nom": station.line.suction_pressure_psig,
        "pd_nom": station.line.discharge_pressure_psig,
        "design_load": c.value("design_load_fraction"),
        "speed_design": c.value("design_speed_fraction"),
        "speed_min": c.value("min_speed_fraction"),
        "clearance": c.value("clearance_fraction"),
        "eta": c.value("isentropic_efficiency"),
        "eta_mech": c.value("mechanical_efficiency"),
        "approach": c.value("cooler_approach_f"),
        "vib_base": c.value("vibration_base_mms"),
        "vib_trip": c.value("vibration_trip_mms"),
        "temp_trip": c.value("discharge_temp_trip_f"),
        "blowdown_ft3": c.value("blowdown_volume_ft3"),
        "packing_scfh": c.value("packing_leak_scfh_per_throw"),
        "climate_mean": station.climate.mean_temp_f,
        "climate_seasonal": station.climate.seasonal_amplitude_f,
        "climate_diurnal": station.climate.diurnal_amplitude_f,
        "warm_doy": float(station.climate.warmest_day_of_year),
        "warm_hour": station.climate.warmest_hour,
        "weather_sd": station.climate.weather_sd_f,
        "longitude": station.longitude,
    }


def build_units(
    fleet: Fleet, *, station_ids: list[str] | None = None, maps_dir: str | None = None
) -> UnitTable:
    """The units of `station_ids` (default: every station), with their register maps."""
    stations = list(fleet.stations())
    if station_ids is not None:
        known = {s.id: s for s in stations}
        missing = [s for s in station_ids if s not in known]
        if missing:
            raise SimulatorError(f"station(s) not in the fleet: {', '.join(missing)}")
        stations = [known[s] for s in station_ids]
    maps_cache: dict[str, RegisterMap] = {}
    ids: list[str] = []
    station_of: list[str] = []
    station_index: list[int] = []
    position: list[int] = []
    size: list[int] = []
    rows: list[dict[str, float]] = []
    register_maps: list[RegisterMap] = []
    for s_index, station in enumerate(stations):
        name = station.panel.register_map
        if name not in maps_cache:
            maps_cache[name] = find_register_map(name, maps_dir)
            missing_fields = [f for f in SENSOR_FIELDS if not maps_cache[name].has(f)]
            if missing_fields:
                raise SimulatorError(f"register map {name!r} lacks {', '.join(missing_fields)}")
        register_maps.append(maps_cache[name])
        for p, compressor in enumerate(station.compressors):
            ids.append(compressor.id)
            station_of.append(station.id)
            station_index.append(s_index)
            position.append(p)
            size.append(len(station.compressors))
            rows.append(_unit_params(station, compressor))
    params = {key: np.array([row[key] for row in rows], dtype=np.float64) for key in rows[0]}
    table = UnitTable(
        compressor_ids=ids,
        station_ids=station_of,
        stations=stations,
        register_maps=register_maps,
        station_index=np.array(station_index, dtype=np.int64),
        position=np.array(position, dtype=np.int64),
        station_size=np.array(size, dtype=np.int64),
        first_unit=np.array([station_index.index(s) for s in range(len(stations))], dtype=np.int64),
        params=params,
    )
    _derive_design_point(table)
    return table


def _derive_design_point(table: UnitTable) -> None:
    """Size each unit so that it draws `design_load` x rated hp at design conditions.

    The capacity constant C (flow = C x speed x VE x Ps_abs / Ts_R) follows from the
    physics at the design point, not from the GPSA rule of thumb, so the rule stays
    an independent check.
    """
    p = table.params
    k = p["gas_k"]
    exponent = (k - 1.0) / k
    stages = p["stages"]
    ps_abs = p["ps_nom"] + ATMOSPHERE_PSI
    pd_abs = p["pd_nom"] + ATMOSPHERE_PSI
    ratio = (pd_abs / ps_abs) ** (1.0 / stages)
    x = ratio**exponent - 1.0
    ambient = p["climate_mean"]
    suction_r = suction_temp_f(ambient, p["climate_mean"]) + RANKINE
    inter_r = ambient + p["approach"] + RANKINE
    hp_per_mmscfd = (
        HP_CONSTANT * (1.0 / exponent) * p["gas_z"] * x * (suction_r + (stages - 1.0) * inter_r)
    ) / (p["eta"] * p["eta_mech"])
    flow_design = p["design_load"] * p["rated_hp"] / hp_per_mmscfd
    ve = volumetric_efficiency(ratio, k, p["clearance"])
    p["capacity"] = flow_design / (p["speed_design"] * ve * ps_abs / suction_r)
    p["flow_design_mmscfd"] = flow_design


def suction_temp_f(ambient_f: np.ndarray, ground_f: np.ndarray) -> np.ndarray:
    """Gas arrives from buried gathering lines: between ground and air temperature."""
    return 0.55 * ambient_f + 0.45 * ground_f + 4.0


def volumetric_efficiency(ratio: np.ndarray, k: np.ndarray, clearance: np.ndarray) -> np.ndarray:
    """First-stage volumetric efficiency: 0.96 - clearance * (r^(1/k) - 1)."""
    return 0.96 - clearance * (ratio ** (1.0 / k) - 1.0)
