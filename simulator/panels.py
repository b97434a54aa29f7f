"""Modbus TCP panel emulation: one pymodbus server per station, one unit id per compressor.

Registers follow the station's register map (`shared/register_map.py`) and carry
the values the simulator reports for the current simulated second, so a client
reads exactly what `altaviz-sim generate` writes for that instant. Faulty panels
(from the scenario's `panel_faults` or the command line) answer with a Modbus
exception or not at all; a unit in a sensor-fault `dropout` does not answer.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.exceptions import NoSuchIdException
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from shared.register_map import (
    CLOCK_POINT,
    STATE_POINT,
    RegisterKind,
    RegisterMap,
    encode_state,
    encode_value,
)
from shared.schema import SENSOR_FIELDS
from simulator.engine import Chunk, Simulation
from simulator.errors import PanelError
from simulator.live import LiveClock, SharedClock
from simulator.scenario import resolve_instant
from simulator.schedule import STATE_NAMES

log = logging.getLogger(__name__)

_KIND_OF_FUNCTION = {3: RegisterKind.HOLDING, 4: RegisterKind.INPUT}

#: Instants computed at once for a panel (served one by one as the clock reaches them).
CHUNK_INSTANTS = 240


@dataclass(frozen=True)
class PanelFault:
    """How one unit (or every unit, unit_id None) of a station misbehaves."""

    station_id: str
    unit_id: int | None
    behaviour: str  # "timeout" | "exception"
    exception_code: int = 4
    probability: float = 1.0
    start_s: float | None = None
    end_s: float | None = None

    def applies(self, unit_id: int, now_s: float) -> bool:
        if self.unit_id is not None and self.unit_id != unit_id:
            return False
        if self.start_s is not None and now_s < self.start_s:
            return False
        return not (self.end_s is not None and now_s >= self.end_s)


def scenario_panel_faults(sim: Simulation) -> list[PanelFault]:
    """The scenario's `panel_faults`, resolved to unit ids and instants."""
    faults = []
    for spec in sim.scenario.panel_faults:
        if spec.exception_code not in {int(c) for c in ExcCodes}:
            raise PanelError(f"panel_faults: {spec.exception_code} is not a Modbus exception code")
        try:
            station = sim.fleet.station(spec.station)
        except KeyError:
            raise PanelError(
                f"panel_faults: station {spec.station!r} is not in the fleet"
            ) from None
        unit_ids: list[int | None] = [None]
        if spec.compressors:
            by_id = {c.id: c.unit_id for c in station.compressors}
            unknown = [c for c in spec.compressors if c not in by_id]
            if unknown:
                raise PanelError(
                    f"panel_faults: {', '.join(unknown)} not at station {spec.station}"
                )
            unit_ids = [by_id[c] for c in spec.compressors]
        start = None if spec.start is None else resolve_instant(spec.start, sim.scenario.start_s)
        end = None if spec.end is None else resolve_instant(spec.end, sim.scenario.start_s)
        for unit_id in unit_ids:
            faults.append(
                PanelFault(
                    spec.station,
                    unit_id,
                    spec.behaviour,
                    spec.exception_code,
                    spec.probability,
                    start,
                    end,
                )
            )
    return faults


def _block_size(register_map: RegisterMap, kind: RegisterKind) -> int:
    ends = [p.address + p.width for p in register_map.points if p.kind is kind]
    return max(ends, default=0)


class StationPanel:
    """The register images of one station's units, refreshed from the simulation."""

    def __init__(self, sim: Simulation, station_id: str) -> None:
        self.sim = sim
        self.station_id = station_id
        self.idx = sim.units.units_of(station_id)
        station = sim.fleet.station(station_id)
        self.register_map = sim.units.register_maps[int(sim.units.station_index[self.idx[0]])]
        self.unit_ids = [c.unit_id for c in station.compressors]
        self.sizes = {kind: _block_size(self.register_map, kind) for kind in RegisterKind}
        self.images: dict[int, dict[RegisterKind, list[int]]] = {
            unit_id: {kind: [0] * size for kind, size in self.sizes.items()}
            for unit_id in self.unit_ids
        }
        self.silent: set[int] = set()
        self.instant_s: int | None = None
        #: Units asked for their values since `instant_s` was served (lockstep time).
        self.polled: set[int] = set()
        self.served_since = 0.0
        #: When a gateway was last connected to this panel (time.monotonic()).
        self.gateway_seen_at = time.monotonic()
        self._cached: tuple[Chunk, int, int] | None = None

    def _chunk(self, instant_s: int, step_s: int) -> tuple[Chunk, int]:
        """The precomputed chunk holding `instant_s` and its column (one computation per
        CHUNK_INSTANTS instants: accelerated time refreshes many times a second)."""
        cached = self._cached
        if cached is not None:
            chunk, first_s, cached_step = cached
            column, offset = divmod(instant_s - first_s, step_s)
            if cached_step == step_s and offset == 0 and 0 <= column < len(chunk.t):
                return chunk, int(column)
        instants = instant_s + step_s * np.arange(CHUNK_INSTANTS, dtype=np.int64)
        chunk = self.sim.chunk(instants, self.idx, step_s=step_s)
        self._cached = (chunk, instant_s, step_s)
        return chunk, 0

    def refresh(self, instant_s: int, *, step_s: int) -> None:
        """The station at `instant_s`: re-encode every unit's registers."""
        chunk, j = self._chunk(instant_s, step_s)
        reported = chunk.reported
        silent = set()
        for row, unit_id in enumerate(self.unit_ids):
            if reported.unit_dropout[row, j]:
                silent.add(unit_id)
                continue
            image = {kind: [0] * size for kind, size in self.sizes.items()}
            for point in self.register_map.points:
                if point.name == STATE_POINT:
                    words = encode_state(
                        point,
                        STATE_NAMES[int(chunk.physics.state[row, j])],
                        byte_order=self.register_map.byte_order,
                    )
                else:
                    value = self._value(chunk, row, j, point.name)
                    words = encode_value(
                        point,
                        None if value is None or np.isnan(value) else float(value),
                        byte_order=self.register_map.byte_order,
                        word_order=self.register_map.word_order_of(point),
                    )
                image[point.kind][point.address : point.address + point.width] = words
            self.images[unit_id] = image
        self.silent = silent
        self.instant_s = instant_s
        self.polled = set()
        self.served_since = time.monotonic()

    def all_polled(self) -> bool:
        """Every unit that answers has been asked for its values at this instant."""
        return set(self.unit_ids) - self.silent <= self.polled

    @staticmethod
    def _value(chunk: Chunk, row: int, j: int, name: str) -> float | None:
        if name in SENSOR_FIELDS:
            return float(chunk.reported.values[name][row, j])
        if name == CLOCK_POINT:
            # The panel's clock as the gateway would stamp it (a skewed clock included).
            return float(round(int(chunk.reported.timestamp_us[row, j]) / 1e6))
        physics = chunk.physics
        source = {
            "suction_temp_f": physics.suction_temp_f,
            "ambient_temp_f": physics.ambient_f,
            "speed_rpm": physics.speed_rpm,
        }
        return float(source[name][row, j])


class PanelServers:
    """Every served station's Modbus TCP server in one asyncio loop."""

    def __init__(
        self,
        sim: Simulation,
        *,
        clock: LiveClock | SharedClock,
        stations: Sequence[str] | None = None,
        host: str | None = None,
        port_offset: int = 0,
        faults: Sequence[PanelFault] = (),
        update_s: float = 0.5,
        step_s: int = 1,
        seed: int = 0,
        rtu_stations: Sequence[str] = (),
        lockstep_wait_s: float | None = None,
    ) -> None:
        """`rtu_stations` answer in RTU framing over TCP (a serial gateway's framing).

        `lockstep_wait_s`: accelerated time for a gateway that must see every value: a
        panel moves to its next instant only once every answering unit has been asked
        for this one (or after this many wall seconds without), so no instant is lost
        when simulated seconds pass faster than the gateway polls. A panel no gateway has
        been connected to for that long follows the clock instead: a stopped gateway
        misses what happens meanwhile, as on site."""
        self.sim = sim
        self.clock = clock
        station_ids = list(stations) if stations else list(dict.fromkeys(sim.units.station_ids))
        self.panels = {s: StationPanel(sim, s) for s in station_ids}
        self.host = host
        self.port_offset = port_offset
        self.faults = [*scenario_panel_faults(sim), *faults]
        self.update_s = update_s
        self.step_s = step_s
        self._random = random.Random(seed)
        unknown = sorted(set(rtu_stations) - set(self.panels))
        if unknown:
            raise PanelError(f"RTU framing asked for unserved station(s): {', '.join(unknown)}")
        self.framers: Mapping[str, FramerType] = {
            s: FramerType.RTU if s in rtu_stations else FramerType.SOCKET for s in self.panels
        }
        self.lockstep_wait_s = lockstep_wait_s
        self._servers: list[ModbusTcpServer] = []
        self._server_of: dict[str, ModbusTcpServer] = {}
        self.addresses: dict[str, tuple[str, int]] = {}

    def refresh(self) -> None:
        instant = int(self.clock.now_s()) // self.step_s * self.step_s
        for panel in self.panels.values():
            self._note_gateway(panel)
            self._refresh(panel, instant)

    def _note_gateway(self, panel: StationPanel) -> None:
        server = self._server_of.get(panel.station_id)
        if server is None or server.active_connections:  # not serving yet: nobody is late
            panel.gateway_seen_at = time.monotonic()

    def _gateway_gone(self, panel: StationPanel) -> bool:
        """No gateway connected for `lockstep_wait_s`: nobody to hold an instant for (an
        agent's reconnect after a timeout takes far less)."""
        wait = self.lockstep_wait_s
        return wait is not None and time.monotonic() - panel.gateway_seen_at >= wait

    def _refresh(self, panel: StationPanel, instant: int) -> None:
        current = panel.instant_s
        if current == instant:
            return
        if (
            self.lockstep_wait_s is None
            or current is None
            or instant < current
            or self._gateway_gone(panel)
        ):
            panel.refresh(instant, step_s=self.step_s)
        elif panel.all_polled() or time.monotonic() - panel.served_since >= self.lockstep_wait_s:
            panel.refresh(current + self.step_s, step_s=self.step_s)

    def _devices(self, panel: StationPanel) -> list[SimDevice]:
        devices = []
        for unit_id in [*panel.unit_ids, 0]:
            blocks: list[list[SimData]] = [
                [SimData(0, datatype=DataType.BITS, values=False)] for _ in range(2)
            ]
            for kind in (RegisterKind.HOLDING, RegisterKind.INPUT):
                size = panel.sizes[kind]
                if size:
                    blocks.append(
                        [
                            SimData(
                                0, count=size, values=0, datatype=DataType.REGISTERS, readonly=True
                            )
                        ]
                    )
                else:
                    blocks.append([SimData(0, datatype=DataType.INVALID)])
            action = functools.partial(self._action, panel, unit_id)
            devices.append(
                SimDevice(
                    unit_id, simdata=(blocks[0], blocks[1], blocks[2], blocks[3]), action=action
                )
            )
        return devices

    async def _action(
        self,
        panel: StationPanel,
        unit_id: int,
        function_code: int,
        _start_address: int,
        _address: int,
        _count: int,
        registers: list[int],
        set_values: list[int] | list[bool] | None,
    ) -> ExcCodes | None:
        if unit_id == 0:
            return ExcCodes.GATEWAY_NO_RESPONSE  # no such unit behind this gateway
        panel.gateway_seen_at = time.monotonic()  # a request: a gateway is connected
        self._refresh(panel, int(self.clock.now_s()) // self.step_s * self.step_s)
        panel.polled.add(unit_id)
        now = self.clock.now_s()
        for fault in self.faults:
            if (
                fault.station_id == panel.station_id
                and fault.applies(unit_id, now)
                and self._random.random() < fault.probability
            ):
                if fault.behaviour == "timeout":
                    raise NoSuchIdException("simulated panel timeout")  # the server stays silent
                return ExcCodes(fault.exception_code)
        if unit_id in panel.silent:
            raise NoSuchIdException("unit in a simulated dropout")
        kind = _KIND_OF_FUNCTION.get(function_code)
        if kind is None or set_values is not None:
            return ExcCodes.ILLEGAL_FUNCTION
        image = panel.images[unit_id][kind]
        registers[: len(image)] = image
        return None

    async def start(self) -> None:
        self.refresh()
        for station_id, panel in self.panels.items():
            station = self.sim.fleet.station(station_id)
            address = (self.host or station.panel.host, station.panel.port + self.port_offset)
            server = ModbusTcpServer(
                self._devices(panel),
                address=address,
                ignore_missing_devices=True,
                framer=self.framers[station_id],
            )
            try:
                await server.serve_forever(background=True)
            except (OSError, RuntimeError) as exc:
                await self.stop()
                raise PanelError(
                    f"station {station_id}: cannot listen on {address[0]}:{address[1]} ({exc})"
                ) from None
            self._servers.append(server)
            self._server_of[station_id] = server
            panel.gateway_seen_at = time.monotonic()
            self.addresses[station_id] = address
            log.info(
                "panel %s listening on %s:%d (%d units, %s framing)",
                station_id,
                address[0],
                address[1],
                len(panel.unit_ids),
                self.framers[station_id].value,
            )

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            while not stop.is_set():
                self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.update_s)
        finally:
            await self.stop()

    async def stop(self) -> None:
        for server in self._servers:
            await server.shutdown()
        self._servers.clear()
        self._server_of.clear()
