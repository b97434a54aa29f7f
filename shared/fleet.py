"""The fleet contract: organisations -> stations -> compressors (`config/fleet.yaml`).

The simulator builds its fleet from this file; the hub and the portal seed their
stations and compressors from it. `load_fleet` returns a *resolved* fleet: packages
expanded, generator sections expanded into explicit stations, every per-unit
characteristic filled in (from the file, else derived from the compressor id, so a
unit keeps its character across runs and seeds). Format: docs/simulator.md#fleet.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from shared.errors import ConfigError
from shared.ids import ID_PATTERN

#: The default fleet file, relative to the repository root.
DEFAULT_FLEET_PATH = Path(__file__).resolve().parents[1] / "config" / "fleet.yaml"

FLEET_FORMAT_VERSION = 1

Segment = Literal["gathering_boosting", "transmission"]
DriverKind = Literal["gas_engine", "electric_motor"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Panel(_Model):
    """Where the station's compressor panels answer Modbus TCP (one unit id per compressor)."""

    host: str = "127.0.0.1"
    port: int = Field(ge=1, le=65535)
    register_map: str = "standard-scaled"


class LineConditions(_Model):
    """Nominal gathering/pipeline conditions at the station and the gas it handles."""

    suction_pressure_psig: float = Field(gt=-14.7, lt=3000)
    discharge_pressure_psig: float = Field(gt=0, lt=5000)
    #: Ratio of specific heats cp/cv of the gas (natural gas: ~1.26-1.30).
    gas_k: float = Field(default=1.28, gt=1.0, lt=1.7)
    #: Average compressibility factor across the compression.
    gas_z: float = Field(default=0.97, gt=0.5, le=1.1)
    methane_mole_fraction: float = Field(default=0.85, gt=0, le=1)

    @model_validator(mode="after")
    def _compresses(self) -> LineConditions:
        if self.discharge_pressure_psig <= self.suction_pressure_psig:
            raise ValueError("discharge_pressure_psig must be above suction_pressure_psig")
        return self


class Climate(_Model):
    """Ambient temperature model: annual mean, seasonal and diurnal half-ranges."""

    mean_temp_f: float = Field(ge=-20, le=110)
    seasonal_amplitude_f: float = Field(default=16.0, ge=0, le=60)
    diurnal_amplitude_f: float = Field(default=11.0, ge=0, le=40)
    #: Day of year with the warmest mean temperature (~ 20 July in Texas).
    warmest_day_of_year: int = Field(default=201, ge=1, le=366)
    #: Local solar hour of the daily maximum.
    warmest_hour: float = Field(default=16.0, ge=0, lt=24)
    #: Standard deviation of day-to-day weather around the climate curve.
    weather_sd_f: float = Field(default=5.0, ge=0, le=30)


class Driver(_Model):
    make: str
    model: str
    kind: DriverKind = "gas_engine"
    rated_hp: float = Field(gt=0, le=50000)
    rated_speed_rpm: float = Field(gt=0, le=3600)
    #: Fuel heat rate at rated load (gas engines), Btu (HHV) per bhp-hour.
    heat_rate_btu_per_bhp_h: float | None = Field(default=None, gt=0)


class Cylinder(_Model):
    """Final-stage cylinder geometry and the frame's rod-load rating (gas rod load)."""

    bore_in: float = Field(gt=0, lt=60)
    rod_diameter_in: float = Field(gt=0, lt=10)
    rated_rod_load_lbf: float | None = Field(default=None, gt=0)


class Package(_Model):
    """A compressor package type: frame plus driver (the `packages` catalogue)."""

    make: str
    model: str
    throws: int = Field(ge=1, le=12)
    driver: Driver
    #: Optional: with it, the portal shows the final stage's gas rod load.
    final_cylinder: Cylinder | None = None


class Characteristics(_Model):
    """Per-unit physical characteristics; absent values are derived from the compressor id."""

    #: Fraction of rated horsepower the unit runs at under design conditions.
    design_load_fraction: float | None = Field(default=None, gt=0.2, le=1.0)
    #: Speed fraction (of rated) under design conditions; the unit varies around it.
    design_speed_fraction: float | None = Field(default=None, gt=0.5, le=1.0)
    min_speed_fraction: float | None = Field(default=None, gt=0.3, lt=1.0)
    #: Clearance volume fraction of the first stage (volumetric efficiency).
    clearance_fraction: float | None = Field(default=None, gt=0, lt=0.5)
    #: Isentropic (adiabatic) compression efficiency of each stage.
    isentropic_efficiency: float | None = Field(default=None, gt=0.5, le=1.0)
    mechanical_efficiency: float | None = Field(default=None, gt=0.5, le=1.0)
    #: Cooler outlet above ambient at design load, clean cooler.
    cooler_approach_f: float | None = Field(default=None, gt=0, lt=80)
    #: Healthy frame vibration at rated speed, mm/s RMS.
    vibration_base_mms: float | None = Field(default=None, gt=0, lt=20)
    vibration_trip_mms: float | None = Field(default=None, gt=0, lt=60)
    discharge_temp_trip_f: float | None = Field(default=None, gt=150, lt=600)
    #: Gas volume between the unit's isolation valves (blowdown volume), actual ft³.
    blowdown_volume_ft3: float | None = Field(default=None, gt=0, lt=100000)
    #: Healthy rod-packing vent per throw while pressurized, scf/h.
    packing_leak_scfh_per_throw: float | None = Field(default=None, ge=0, lt=1000)

    def resolved(self, compressor_id: str) -> Characteristics:
        """Fill absent values deterministically from the compressor id."""
        u = _unit_uniforms(compressor_id, 10)
        derived = {
            "design_load_fraction": round(0.80 + 0.08 * u[0], 3),
            "design_speed_fraction": round(0.86 + 0.06 * u[1], 3),
            "min_speed_fraction": 0.70,
            "clearance_fraction": round(0.08 + 0.06 * u[2], 3),
            "isentropic_efficiency": round(0.80 + 0.04 * u[3], 3),
            "mechanical_efficiency": 0.94,
            "cooler_approach_f": round(15.0 + 8.0 * u[4], 1),
            "vibration_base_mms": round(1.8 + 1.6 * u[5], 2),
            "vibration_trip_mms": 12.0,
            "discharge_temp_trip_f": 350.0,
            "blowdown_volume_ft3": round(450.0 + 300.0 * u[6], 0),
            "packing_leak_scfh_per_throw": round(2.0 + 4.0 * u[7], 2),
        }
        given = self.model_dump(exclude_none=True)
        return Characteristics(**{**derived, **given})

    def value(self, name: str) -> float:
        number = getattr(self, name)
        if number is None:
            raise ConfigError(f"characteristic {name!r} is not resolved")
        return float(number)


def _unit_uniforms(key: str, count: int) -> list[float]:
    """`count` numbers in [0, 1) that depend only on `key` (stable across runs and machines)."""
    digest = hashlib.sha256(key.encode("utf-8")).digest()
    return [int.from_bytes(digest[2 * i : 2 * i + 2], "big") / 65536.0 for i in range(count)]


class Compressor(_Model):
    id: str = Field(pattern=ID_PATTERN)
    #: A key of the fleet's `packages` catalogue; its fields fill what is absent here.
    package: str | None = None
    make: str
    model: str
    throws: int = Field(ge=1, le=12)
    driver: Driver
    rated_hp: float = Field(gt=0, le=50000)
    stages: int = Field(ge=1, le=4)
    #: Modbus unit (device) id on the station's panel gateway.
    unit_id: int = Field(ge=1, le=247)
    characteristics: Characteristics = Field(default_factory=Characteristics)
    final_cylinder: Cylinder | None = None


class Station(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    basin: str
    segment: Segment = "gathering_boosting"
    latitude: float = Field(ge=-90, le=90)
    longitude: float = Field(ge=-180, le=180)
    timezone: str = "America/Chicago"
    panel: Panel
    line: LineConditions
    climate: Climate
    compressors: tuple[Compressor, ...]

    @model_validator(mode="after")
    def _units(self) -> Station:
        if not self.compressors:
            raise ValueError("a station needs at least one compressor")
        seen: dict[int, str] = {}
        for compressor in self.compressors:
            if compressor.unit_id in seen:
                raise ValueError(
                    f"compressor {compressor.id!r}: unit_id {compressor.unit_id} is already "
                    f"used by {seen[compressor.unit_id]!r}"
                )
            seen[compressor.unit_id] = compressor.id
        return self


class Organisation(_Model):
    id: str = Field(pattern=ID_PATTERN)
    name: str
    stations: tuple[Station, ...] = ()


class Generator(_Model):
    """Expands into explicit stations: copies of template stations with new ids.

    Station n (1-based) copies template (n-1) mod len(templates): its basin, line
    conditions, climate, register map and its compressors' packages and stages, in
    turn, for `compressors_per_station` units.
    """

    org_id: str = Field(pattern=ID_PATTERN)
    stations: int = Field(ge=1, le=10000)
    compressors_per_station: int = Field(ge=1, le=247)
    templates: tuple[str, ...] = Field(min_length=1)
    station_id_format: str = "GEN-S{n:04d}"
    station_name_format: str = "{basin} station {n}"
    compressor_id_format: str = "GEN-C{n:05d}"
    first_port: int = Field(default=6000, ge=1, le=65535)
    host: str = "127.0.0.1"
    #: Generated stations are scattered this far (degrees) around their template.
    scatter_deg: float = Field(default=0.4, ge=0, le=5)


class Fleet(_Model):
    version: int = FLEET_FORMAT_VERSION
    #: The package catalogue, kept so a resolved fleet can be written out and read back.
    packages: dict[str, Package] = Field(default_factory=dict)
    organisations: tuple[Organisation, ...]

    @model_validator(mode="after")
    def _unique(self) -> Fleet:
        _check_unique("organisation", [o.id for o in self.organisations])
        _check_unique("station", [s.id for s in self.stations()])
        _check_unique("compressor", [c.id for _, c in self.compressors()])
        _check_unique("panel address", [f"{s.panel.host}:{s.panel.port}" for s in self.stations()])
        return self

    def stations(self) -> Iterator[Station]:
        for organisation in self.organisations:
            yield from organisation.stations

    def compressors(self) -> Iterator[tuple[Station, Compressor]]:
        for station in self.stations():
            for compressor in station.compressors:
                yield station, compressor

    def station(self, station_id: str) -> Station:
        for station in self.stations():
            if station.id == station_id:
                return station
        raise KeyError(station_id)

    def org_of(self, station_id: str) -> Organisation:
        for organisation in self.organisations:
            if any(s.id == station_id for s in organisation.stations):
                return organisation
        raise KeyError(station_id)

    def compressor(self, compressor_id: str) -> tuple[Station, Compressor]:
        for station, compressor in self.compressors():
            if compressor.id == compressor_id:
                return station, compressor
        raise KeyError(compressor_id)

    @property
    def compressor_count(self) -> int:
        return sum(len(s.compressors) for s in self.stations())

    def to_document(self) -> dict[str, Any]:
        """The resolved fleet as a plain document (`altaviz-sim fleet` writes it as YAML)."""
        return {"version": self.version, **self.model_dump(mode="json", exclude={"version"})}


def _check_unique(kind: str, values: list[str]) -> None:
    seen: set[str] = set()
    for value in values:
        if value in seen:
            raise ValueError(f"{kind} {value!r} appears more than once")
        seen.add(value)


# -- resolving the file ------------------------------------------------------------------


def _merge_package(raw: dict[str, Any], packages: dict[str, Any], where: str) -> dict[str, Any]:
    name = raw.get("package")
    if name is None:
        merged = dict(raw)
    else:
        if name not in packages:
            known = ", ".join(sorted(packages)) or "none"
            raise ValueError(f"{where}: unknown package {name!r} (packages: {known})")
        merged = {**packages[name], **raw}
        if isinstance(packages[name].get("driver"), dict) and isinstance(raw.get("driver"), dict):
            merged["driver"] = {**packages[name]["driver"], **raw["driver"]}
    driver = merged.get("driver")
    if "rated_hp" not in merged and isinstance(driver, dict) and "rated_hp" in driver:
        merged["rated_hp"] = driver["rated_hp"]
    return merged


def _resolve_station(raw: Any, packages: dict[str, Any], where: str) -> Any:
    if not isinstance(raw, dict):
        return raw
    station = dict(raw)
    compressors = station.get("compressors")
    if isinstance(compressors, list):
        resolved = []
        for index, unit in enumerate(compressors):
            if isinstance(unit, dict):
                label = f"{where}.compressors[{index}] ({unit.get('id', '?')})"
                unit = _merge_package(unit, packages, label)
                unit_id = unit.get("id")
                characteristics = unit.get("characteristics") or {}
                if isinstance(unit_id, str) and isinstance(characteristics, dict):
                    try:
                        given = Characteristics.model_validate(characteristics)
                    except ValidationError as exc:
                        problem = _format_errors(exc, characteristics)
                        raise ValueError(f"{label}.characteristics.{problem}") from None
                    unit["characteristics"] = given.resolved(unit_id)
            resolved.append(unit)
        station["compressors"] = resolved
    return station


def _expand_generator(
    gen: Generator, templates: dict[str, dict[str, Any]], first_unit: int
) -> list[dict[str, Any]]:
    stations = []
    unit_number = first_unit
    for n in range(1, gen.stations + 1):
        template_id = gen.templates[(n - 1) % len(gen.templates)]
        if template_id not in templates:
            raise ValueError(
                f"generator for {gen.org_id!r}: unknown template station {template_id!r}"
            )
        template = templates[template_id]
        units = template["compressors"]
        jitter = _unit_uniforms(f"{gen.org_id}/{gen.station_id_format}/{n}", 2)
        compressors = []
        for position in range(gen.compressors_per_station):
            source = units[position % len(units)]
            compressor_id = gen.compressor_id_format.format(n=unit_number)
            compressors.append(
                {
                    **{
                        k: v
                        for k, v in source.items()
                        if k not in ("id", "unit_id", "characteristics")
                    },
                    "id": compressor_id,
                    "unit_id": position + 1,
                    "characteristics": Characteristics().resolved(compressor_id),
                }
            )
            unit_number += 1
        basin = template["basin"]
        stations.append(
            {
                **{
                    k: v
                    for k, v in template.items()
                    if k not in ("id", "name", "compressors", "panel")
                },
                "id": gen.station_id_format.format(n=n, basin=basin),
                "name": gen.station_name_format.format(n=n, basin=basin),
                "latitude": round(template["latitude"] + gen.scatter_deg * (2 * jitter[0] - 1), 4),
                "longitude": round(
                    template["longitude"] + gen.scatter_deg * (2 * jitter[1] - 1), 4
                ),
                "panel": {
                    **template["panel"],
                    "host": gen.host,
                    "port": gen.first_port + n - 1,
                },
                "compressors": compressors,
            }
        )
    return stations


def resolve_fleet_document(data: Any) -> Fleet:
    """Validate a fleet document (as read from YAML) and resolve it.

    Raises ValueError (with a location) or pydantic's ValidationError.
    """
    if not isinstance(data, dict):
        raise ValueError("a fleet file must be a YAML mapping")
    unknown = set(data) - {"version", "packages", "organisations", "generators"}
    if unknown:
        raise ValueError(f"unknown top-level key(s): {', '.join(sorted(unknown))}")
    if data.get("version", FLEET_FORMAT_VERSION) != FLEET_FORMAT_VERSION:
        raise ValueError(
            f"version {data.get('version')!r} is not supported (expected {FLEET_FORMAT_VERSION})"
        )
    packages = data.get("packages") or {}
    if not isinstance(packages, dict):
        raise ValueError("packages must be a mapping of name -> package")
    for name, package in packages.items():
        try:
            Package.model_validate(package)
        except ValidationError as exc:
            raise ValueError(f"packages.{name}: {_format_errors(exc, package)}") from None
    organisations = []
    for o_index, org in enumerate(data.get("organisations") or []):
        if not isinstance(org, dict):
            organisations.append(org)
            continue
        stations = [
            _resolve_station(s, packages, f"organisations[{o_index}].stations[{s_index}]")
            for s_index, s in enumerate(org.get("stations") or [])
        ]
        organisations.append({**org, "stations": stations})
    generators = []
    for g_index, raw in enumerate(data.get("generators") or []):
        try:
            generators.append(Generator.model_validate(raw))
        except ValidationError as exc:
            raise ValueError(f"generators[{g_index}]: {_format_errors(exc, raw)}") from None
    if generators:
        _apply_generators(generators, organisations)
    document = {
        "version": FLEET_FORMAT_VERSION,
        "packages": packages,
        "organisations": organisations,
    }
    try:
        return Fleet.model_validate(document)
    except ValidationError as exc:
        raise ValueError(_format_errors(exc, document)) from None


def _apply_generators(generators: list[Generator], organisations: list[Any]) -> None:
    templates = {
        s["id"]: s
        for org in organisations
        if isinstance(org, dict)
        for s in org["stations"]
        if isinstance(s, dict) and "id" in s
    }
    next_unit = 1 + sum(len(s.get("compressors", [])) for s in templates.values())
    by_id = {org.get("id"): org for org in organisations if isinstance(org, dict)}
    for gen in generators:
        if gen.org_id not in by_id:
            raise ValueError(f"generator: organisation {gen.org_id!r} is not defined")
        expanded = _expand_generator(gen, templates, next_unit)
        next_unit += gen.stations * gen.compressors_per_station
        by_id[gen.org_id]["stations"] = [*by_id[gen.org_id]["stations"], *expanded]


def _format_errors(exc: ValidationError, document: Any) -> str:
    """One line per problem, locations spelled with ids ("organisations[0].stations[1] (EF-KARNES)")."""
    problems = []
    for error in exc.errors():
        parts: list[str] = []
        node = document
        for part in error["loc"]:
            if isinstance(part, int):
                label = f"[{part}]"
                if isinstance(node, list | tuple) and 0 <= part < len(node):
                    node = node[part]
                    if isinstance(node, dict) and isinstance(node.get("id"), str):
                        label += f" ({node['id']})"
                else:
                    node = None
                parts.append(label)
            else:
                parts.append(("." if parts else "") + str(part))
                node = node.get(part) if isinstance(node, dict) else None
        where = "".join(parts) or "fleet"
        problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
    return "; ".join(problems)


def parse_fleet(data: Any, *, source: str) -> Fleet:
    """Resolve a fleet document; errors become ConfigError naming `source`."""
    try:
        return resolve_fleet_document(data)
    except (ValueError, KeyError, TypeError) as exc:
        raise ConfigError(f"{source}: {exc}") from None


def _read_document(path: Path, seen: tuple[Path, ...] = ()) -> Any:
    """Read a fleet YAML file, following `extends: <file>` (relative to the file)."""
    if path in seen:
        raise ConfigError(f"{path}: `extends` loops back to itself")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read fleet file ({exc.strerror or exc})") from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML ({exc})") from None
    if not isinstance(data, dict) or "extends" not in data:
        return data
    base = _read_document((path.parent / str(data.pop("extends"))).resolve(), (*seen, path))
    if not isinstance(base, dict):
        raise ConfigError(f"{path}: the file it extends is not a fleet mapping")
    merged = dict(base)
    merged["packages"] = {**(base.get("packages") or {}), **(data.get("packages") or {})}
    for key in ("organisations", "generators"):
        merged[key] = [*(base.get(key) or []), *(data.get(key) or [])]
    for key, value in data.items():
        if key not in ("packages", "organisations", "generators"):
            merged[key] = value
    return merged


def load_fleet(path: str | Path | None = None, *, maps_dir: str | Path | None = None) -> Fleet:
    """Load, resolve and validate a fleet file (default: config/fleet.yaml).

    Every station's `panel.register_map` must exist in `maps_dir`
    (default: config/register_maps).
    """
    from shared.register_map import find_register_map

    path = Path(path) if path is not None else DEFAULT_FLEET_PATH
    fleet = parse_fleet(_read_document(path.resolve()), source=str(path))
    for name in sorted({s.panel.register_map for s in fleet.stations()}):
        try:
            find_register_map(name, maps_dir)
        except ConfigError as exc:
            raise ConfigError(f"{path}: panel.register_map: {exc}") from None
    return fleet


def ratio_per_stage(station: Station, stages: int) -> float:
    """Nominal compression ratio per stage, r = (Pd/Ps)^(1/N) in absolute pressures."""
    suction = station.line.suction_pressure_psig + 14.7
    discharge = station.line.discharge_pressure_psig + 14.7
    return math.pow(discharge / suction, 1.0 / stages)
