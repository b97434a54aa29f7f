"""Scenarios: when a run starts, how long it lasts, and what goes wrong when.

A scenario is YAML (or one of the built-ins below). Instants are ISO-8601 times or
offsets from the run's start (`+3d`, `+6d10h`, `+90m`); durations are `90d`,
`12h`, `30m`, `45s` or seconds. Format: docs/simulator.md#scenarios.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.schema import SENSOR_FIELDS, OperatingState
from simulator.errors import ScenarioError

FaultMode = Literal[
    "valve_leak", "bearing_wear", "cooler_fouling", "rod_packing_leak", "driver_problem"
]
FAULT_MODES: tuple[str, ...] = (
    "valve_leak",
    "bearing_wear",
    "cooler_fouling",
    "rod_packing_leak",
    "driver_problem",
)
SensorFaultKind = Literal["stuck", "dropout", "spike", "drift", "clock_skew"]
SENSOR_FAULT_KINDS: tuple[str, ...] = ("stuck", "dropout", "spike", "drift", "clock_skew")

_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)(d|h|m|s)")


def parse_duration(value: Any) -> int:
    """'90d', '6d10h', '30m', '45s' or a number of seconds -> whole seconds."""
    if isinstance(value, bool):
        raise ValueError(f"not a duration: {value!r}")
    if isinstance(value, int | float):
        seconds = float(value)
    elif isinstance(value, str) and re.fullmatch(r"\d+", value.strip()):
        seconds = float(value.strip())
    elif isinstance(value, str):
        text = value.strip().replace(" ", "")
        if not text or _DURATION_RE.sub("", text):
            raise ValueError(f"not a duration: {value!r} (use e.g. 90d, 6d10h, 30m, 45s)")
        factor = {"d": 86400, "h": 3600, "m": 60, "s": 1}
        seconds = sum(float(n) * factor[u] for n, u in _DURATION_RE.findall(text))
    else:
        raise ValueError(f"not a duration: {value!r}")
    if seconds < 0 or seconds != int(seconds):
        raise ValueError(f"duration {value!r} must be a whole, non-negative number of seconds")
    return int(seconds)


def parse_time(value: Any) -> datetime:
    """An ISO-8601 instant (timezone required, or 'Z') -> aware UTC datetime."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"not an ISO-8601 time: {value!r}") from None
    else:
        raise ValueError(f"not a time: {value!r}")
    if moment.tzinfo is None:
        raise ValueError(f"time {value!r} needs a timezone (e.g. 2026-07-06T00:00:00Z)")
    return moment.astimezone(UTC)


def resolve_instant(value: str | datetime, start_s: int) -> int:
    """'+3d' (offset from start) or an ISO time -> Unix seconds."""
    if isinstance(value, str) and value.strip().startswith("+"):
        return start_s + parse_duration(value.strip()[1:])
    return int(parse_time(value).timestamp())


Instant = str | datetime


def _check_instant(value: Any) -> Any:
    if isinstance(value, str) and value.strip().startswith("+"):
        parse_duration(value.strip()[1:])
    elif value is not None:
        parse_time(value)
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class EquipmentFaultSpec(_Model):
    compressor: str
    mode: FaultMode
    onset: Instant
    #: When the protection trip shuts the unit down (may lie after the run's end).
    failure: Instant
    #: Back in service (then a startup); None = stays down.
    repair: Instant | None = None

    _instants = field_validator("onset", "failure", "repair")(_check_instant)


class SensorFaultSpec(_Model):
    kind: SensorFaultKind
    compressor: str | None = None
    #: clock_skew is a gateway fault: it names a station.
    station: str | None = None
    #: stuck, spike and drift need a sensor; a dropout without one loses the whole unit.
    sensor: str | None = None
    start: Instant
    end: Instant
    #: drift: offset reached at the end (sensor units); spike: relative size;
    #: clock_skew: seconds the gateway clock jumps ahead.
    magnitude: float | None = None
    #: spike: probability that a reading in the interval is a spike.
    rate: float | None = Field(default=None, gt=0, le=1)

    _instants = field_validator("start", "end")(_check_instant)

    @model_validator(mode="after")
    def _targets(self) -> SensorFaultSpec:
        if self.kind == "clock_skew":
            if self.station is None or self.compressor is not None:
                raise ValueError("clock_skew names a station (the gateway), not a compressor")
            if self.magnitude is not None and self.magnitude <= 0:
                raise ValueError("clock_skew magnitude is seconds ahead, > 0")
        elif self.compressor is None:
            raise ValueError(f"{self.kind} names a compressor")
        if self.kind in ("stuck", "spike", "drift") and self.sensor is None:
            raise ValueError(f"{self.kind} names a sensor")
        if self.sensor is not None and self.sensor not in SENSOR_FIELDS:
            raise ValueError(
                f"unknown sensor {self.sensor!r} (sensors: {', '.join(SENSOR_FIELDS)})"
            )
        return self


class OperatingEventSpec(_Model):
    compressor: str
    state: Literal["standby_pressurized", "shutdown_depressurized"]
    start: Instant
    end: Instant
    reason: str = "scheduled"

    _instants = field_validator("start", "end")(_check_instant)


class PanelFaultSpec(_Model):
    """A misbehaving panel on the Modbus emulator (no effect on history files)."""

    station: str
    #: Compressor ids; empty = every unit of the station.
    compressors: tuple[str, ...] = ()
    behaviour: Literal["timeout", "exception"]
    #: Modbus exception code for `exception` (4 device failure, 6 busy, 11 gateway no response).
    exception_code: int = Field(default=4, ge=1, le=255)
    #: Share of requests affected.
    probability: float = Field(default=1.0, gt=0, le=1)
    start: Instant | None = None
    end: Instant | None = None

    _instants = field_validator("start", "end")(_check_instant)


class RandomEvents(_Model):
    """Rates of random events (drawn from the seed)."""

    equipment_faults_per_unit_year: float = Field(default=3.0, ge=0)
    mode_weights: dict[str, float] = Field(
        default_factory=lambda: {
            "valve_leak": 0.3,
            "bearing_wear": 0.2,
            "cooler_fouling": 0.2,
            "rod_packing_leak": 0.2,
            "driver_problem": 0.1,
        }
    )
    standby_per_unit_month: float = Field(default=1.5, ge=0)
    maintenance_per_unit_year: float = Field(default=4.0, ge=0)
    sensor_faults_per_unit_month: dict[str, float] = Field(
        default_factory=lambda: {"stuck": 0.5, "dropout": 2.0, "spike": 1.0, "drift": 0.3}
    )
    clock_skew_per_station_month: float = Field(default=0.5, ge=0)

    @model_validator(mode="after")
    def _known_keys(self) -> RandomEvents:
        bad_modes = sorted(set(self.mode_weights) - set(FAULT_MODES))
        if bad_modes:
            raise ValueError(f"mode_weights: unknown fault mode(s) {bad_modes}")
        kinds = set(SENSOR_FAULT_KINDS) - {"clock_skew"}
        bad_kinds = sorted(set(self.sensor_faults_per_unit_month) - kinds)
        if bad_kinds:
            raise ValueError(
                f"sensor_faults_per_unit_month: unknown kind(s) {bad_kinds} (clock skew has its own rate)"
            )
        if any(
            v < 0
            for v in [*self.mode_weights.values(), *self.sensor_faults_per_unit_month.values()]
        ):
            raise ValueError("rates and weights must be >= 0")
        return self


class Scenario(_Model):
    name: str
    description: str = ""
    seed: int = 0
    start: datetime
    #: Length of a generated history and of the random-event horizon.
    duration: int
    #: Seconds between readings of one compressor.
    resolution_s: int = Field(default=60, ge=1, le=86400)
    #: Random events; None = only the scripted ones.
    random: RandomEvents | None = None
    equipment_faults: tuple[EquipmentFaultSpec, ...] = ()
    sensor_faults: tuple[SensorFaultSpec, ...] = ()
    operating_events: tuple[OperatingEventSpec, ...] = ()
    panel_faults: tuple[PanelFaultSpec, ...] = ()

    @field_validator("start", mode="before")
    @classmethod
    def _start(cls, value: Any) -> datetime:
        return parse_time(value)

    @field_validator("duration", mode="before")
    @classmethod
    def _duration(cls, value: Any) -> int:
        seconds = parse_duration(value)
        if seconds <= 0:
            raise ValueError("duration must be > 0")
        return seconds

    @model_validator(mode="after")
    def _aligned(self) -> Scenario:
        if int(self.start.timestamp()) % self.resolution_s:
            raise ValueError(
                f"start must be a whole multiple of resolution_s ({self.resolution_s} s)"
            )
        if self.start.microsecond:
            raise ValueError("start must be a whole second")
        return self

    @property
    def start_s(self) -> int:
        return int(self.start.timestamp())

    @property
    def end_s(self) -> int:
        return self.start_s + self.duration

    def with_overrides(self, **changes: Any) -> Scenario:
        """A copy with some fields replaced (None values are ignored), validated again."""
        data = self.model_dump()
        data.update({k: v for k, v in changes.items() if v is not None})
        return load_scenario_data(data, source=f"scenario {self.name!r}")


# -- built-in scenarios ------------------------------------------------------------------

BUILTIN_SCENARIOS: dict[str, dict[str, Any]] = {
    "prototype-7day": {
        "description": (
            "The earlier prototype's demo story on the default fleet: COMP-003 degrades "
            "(valve leak) from day 3 and trips on day 6.4 (+6d10h); COMP-007 degrades (bearing "
            "wear) from day 5 and would trip on day 9. Days count from 0. Plus labelled sensor "
            "faults, a standby period, a maintenance blowdown and a gateway clock skew."
        ),
        "seed": 42,
        "start": "2026-07-06T00:00:00Z",
        "duration": "7d",
        "resolution_s": 60,
        "equipment_faults": [
            {
                "compressor": "COMP-003",
                "mode": "valve_leak",
                "onset": "+3d",
                "failure": "+6d10h",
                "repair": "+6d20h",
            },
            {"compressor": "COMP-007", "mode": "bearing_wear", "onset": "+5d", "failure": "+9d"},
        ],
        "sensor_faults": [
            {
                "kind": "stuck",
                "compressor": "COMP-002",
                "sensor": "discharge_temp_f",
                "start": "+1d2h",
                "end": "+1d6h",
            },
            {"kind": "dropout", "compressor": "COMP-009", "start": "+2d9h", "end": "+2d9h25m"},
            {
                "kind": "spike",
                "compressor": "COMP-005",
                "sensor": "vibration_mms",
                "start": "+3d12h",
                "end": "+3d18h",
                "rate": 0.05,
                "magnitude": 1.5,
            },
            {
                "kind": "drift",
                "compressor": "COMP-008",
                "sensor": "suction_pressure_psi",
                "start": "+1d",
                "end": "+5d",
                "magnitude": 25.0,
            },
            {
                "kind": "clock_skew",
                "station": "PB-MIDLAND",
                "start": "+4d3h",
                "end": "+4d5h",
                "magnitude": 120,
            },
        ],
        "operating_events": [
            {
                "compressor": "COMP-006",
                "state": "standby_pressurized",
                "start": "+2d1h",
                "end": "+2d11h",
                "reason": "low demand",
            },
            {
                "compressor": "COMP-010",
                "state": "shutdown_depressurized",
                "start": "+4d8h",
                "end": "+4d16h",
                "reason": "planned maintenance",
            },
        ],
    },
    "healthy": {
        "description": "No faults and no events: every unit runs healthy for the whole run.",
        "seed": 0,
        "start": "2026-07-06T00:00:00Z",
        "duration": "1d",
        "resolution_s": 60,
    },
    "random": {
        "description": "Random equipment faults, sensor faults, standby and maintenance from the seed.",
        "seed": 7,
        "start": "2026-04-01T00:00:00Z",
        "duration": "90d",
        "resolution_s": 60,
        "random": {},
    },
}


def load_scenario_data(data: Any, *, source: str) -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{source}: a scenario must be a mapping")
    try:
        return Scenario.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            where = ".".join(str(p) for p in error["loc"]) or "scenario"
            problems.append(f"{where}: {error['msg'].removeprefix('Value error, ')}")
        raise ScenarioError(f"{source}: " + "; ".join(problems)) from None


def load_scenario(name_or_path: str | Path) -> Scenario:
    """A built-in scenario by name, or a YAML file."""
    text = str(name_or_path)
    if text in BUILTIN_SCENARIOS:
        return load_scenario_data(
            {"name": text, **BUILTIN_SCENARIOS[text]}, source=f"scenario {text!r}"
        )
    path = Path(text)
    if not path.is_file():
        known = ", ".join(sorted(BUILTIN_SCENARIOS))
        raise ScenarioError(f"scenario {text!r}: neither a built-in ({known}) nor a file")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ScenarioError(f"{path}: cannot read scenario ({exc})") from None
    if isinstance(data, dict):
        data.setdefault("name", path.stem)
    return load_scenario_data(data, source=str(path))


def scenario_document(scenario: Scenario) -> dict[str, Any]:
    """A scenario as plain data (for run manifests and `altaviz-sim scenario`)."""
    document = scenario.model_dump(mode="json", exclude_defaults=False)
    document["duration"] = f"{scenario.duration}s"
    return document


ALLOWED_EVENT_STATES = (OperatingState.STANDBY_PRESSURIZED, OperatingState.SHUTDOWN_DEPRESSURIZED)
