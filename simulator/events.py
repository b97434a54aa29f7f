"""Scheduled events and the rules for booking them on a unit.

An `EventBook` accepts equipment-fault episodes, outages (operating-state changes)
and sensor faults, and refuses what would overlap: a unit has one equipment fault
and one outage at a time, and a sensor has one fault at a time.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from simulator.errors import ScenarioError

#: Operating-state codes used in arrays (same order as the status register codes).
STATE_NAMES: tuple[str, ...] = (
    "shutdown_depressurized",
    "standby_pressurized",
    "startup",
    "running",
)
SHUTDOWN, STANDBY, STARTUP, RUNNING = range(4)
STATE_CODE = {name: code for code, name in enumerate(STATE_NAMES)}

#: Seconds from "back in service" to running.
STARTUP_S = 900
NEVER = 2**62
LONG_AGO = -(2**62)
DAY = 86400
HOUR = 3600


def stamp(seconds: int) -> str:
    """A compact UTC time for ids: 20260709T000000."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y%m%dT%H%M%S")


@dataclass(frozen=True)
class FaultEpisode:
    fault_id: str
    station_id: str
    compressor_id: str
    mode: str
    onset: int
    failure: int
    repair: int | None
    source: str


@dataclass(frozen=True)
class Outage:
    station_id: str
    compressor_id: str
    start: int
    end: int | None
    state: int
    reason: str
    fault_id: str | None


@dataclass(frozen=True)
class SensorFault:
    fault_id: str
    kind: str
    station_id: str
    compressor_id: str | None
    sensor: str | None
    start: int
    end: int
    magnitude: float | None
    rate: float | None
    source: str


Window = tuple[int, int]


def outage_window(outage: Outage) -> Window:
    """From the stop to the end of the startup that follows it."""
    return outage.start, NEVER if outage.end is None else outage.end + STARTUP_S


def fault_window(fault: FaultEpisode) -> Window:
    """From the onset to the end of the startup after the repair."""
    return fault.onset, NEVER if fault.repair is None else fault.repair + STARTUP_S


def overlaps(window: Window, taken: list[Window]) -> bool:
    return any(window[0] < end and start < window[1] for start, end in taken)


@dataclass
class EventBook:
    """Events booked so far; `station_of` maps each simulated compressor to its station."""

    station_of: dict[str, str]
    faults: list[FaultEpisode] = field(default_factory=list)
    outages: list[Outage] = field(default_factory=list)
    sensor_faults: list[SensorFault] = field(default_factory=list)

    def busy(self, compressor: str) -> list[Window]:
        return [fault_window(f) for f in self.faults if f.compressor_id == compressor] + [
            outage_window(o) for o in self.outages if o.compressor_id == compressor
        ]

    def add_fault(
        self,
        compressor: str,
        mode: str,
        onset: int,
        failure: int,
        repair: int | None,
        *,
        source: str,
        where: str | None = None,
    ) -> bool:
        """Book a fault and the trip outage it ends in; False (or ScenarioError if `where`) on overlap."""
        station = self.station_of[compressor]
        fault = FaultEpisode(
            f"{compressor}.{mode}.{stamp(onset)}",
            station,
            compressor,
            mode,
            onset,
            failure,
            repair,
            source,
        )
        if overlaps(fault_window(fault), self.busy(compressor)):
            if where is not None:
                raise ScenarioError(f"{where}: overlaps another fault or outage of {compressor}")
            return False
        self.faults.append(fault)
        self.outages.append(
            Outage(station, compressor, failure, repair, SHUTDOWN, f"trip: {mode}", fault.fault_id)
        )
        return True

    def add_outage(
        self,
        compressor: str,
        start: int,
        end: int,
        state: int,
        reason: str,
        *,
        where: str | None = None,
    ) -> bool:
        outage = Outage(self.station_of[compressor], compressor, start, end, state, reason, None)
        if overlaps(outage_window(outage), self.busy(compressor)):
            if where is not None:
                raise ScenarioError(f"{where}: overlaps another fault or outage of {compressor}")
            return False
        self.outages.append(outage)
        return True

    def add_sensor_fault(
        self,
        kind: str,
        station: str,
        compressor: str | None,
        sensor: str | None,
        window: Window,
        *,
        magnitude: float | None = None,
        rate: float | None = None,
        source: str,
    ) -> bool:
        """Book a sensor (or, for clock_skew, gateway) fault; refuse one on a busy sensor."""
        start, end = window
        fault_id = f"{compressor or station}.{kind}.{sensor or 'all'}.{stamp(start)}"
        for other in self.sensor_faults:
            same_target = other.compressor_id == compressor and other.station_id == station
            same_sensor = other.sensor is None or sensor is None or other.sensor == sensor
            same_layer = (other.kind == "clock_skew") == (kind == "clock_skew")
            if (
                same_target
                and same_sensor
                and same_layer
                and start < other.end
                and other.start < end
            ):
                if source == "scripted":
                    raise ScenarioError(f"sensor fault {fault_id} overlaps {other.fault_id}")
                return False
        self.sensor_faults.append(
            SensorFault(
                fault_id, kind, station, compressor, sensor, start, end, magnitude, rate, source
            )
        )
        return True
