"""OPC UA panel emulation: the simulated compressors as variables on one asyncua server.

Each compressor is an object `<compressor id>` under Objects with one Double variable
per reading sensor and a String `operating_state`, at node ids
`ns=<namespace index>;s=<compressor id>.<field>` (the namespace is `NAMESPACE_URI`,
index 2 on a fresh server). Values follow the simulated clock like the Modbus panels;
a unit in a sensor-fault `dropout` keeps its last value with the status
BadNoCommunication, and a NaN sensor value is written as BadSensorFailure.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence
from datetime import UTC, datetime

import numpy as np
from asyncua import Server, ua

from shared.register_map import STATE_POINT
from shared.schema import SENSOR_FIELDS
from simulator.engine import Simulation
from simulator.errors import PanelError
from simulator.live import LiveClock
from simulator.schedule import STATE_NAMES

log = logging.getLogger(__name__)

NAMESPACE_URI = "urn:altaviz:simulator:panels"


def node_ids(compressor_id: str, namespace_index: int = 2) -> dict[str, str]:
    """The node id of every field of a compressor (what an agent's `nodes` option lists)."""
    return {
        field: f"ns={namespace_index};s={compressor_id}.{field}"
        for field in (*SENSOR_FIELDS, STATE_POINT)
    }


class OpcUaPanels:
    """Every served station's compressors on one OPC UA server."""

    def __init__(
        self,
        sim: Simulation,
        *,
        clock: LiveClock,
        endpoint: str = "opc.tcp://127.0.0.1:4840/altaviz/",
        stations: Sequence[str] | None = None,
        update_s: float = 0.5,
        step_s: int = 1,
    ) -> None:
        self.sim = sim
        self.clock = clock
        self.endpoint = endpoint
        self.update_s = update_s
        self.step_s = step_s
        station_ids = list(stations) if stations else list(dict.fromkeys(sim.units.station_ids))
        self.idx = np.concatenate([sim.units.units_of(s) for s in station_ids])
        self.compressor_ids = [sim.units.compressor_ids[int(i)] for i in self.idx]
        self.namespace_index = 2
        self._server: Server | None = None
        self._variables: dict[tuple[str, str], object] = {}
        self.instant_s: int | None = None

    async def start(self) -> None:
        server = Server()
        await server.init()
        server.set_endpoint(self.endpoint)
        server.set_server_name("Altaviz simulator panels")
        self.namespace_index = await server.register_namespace(NAMESPACE_URI)
        objects = server.nodes.objects
        for compressor_id in self.compressor_ids:
            folder = await objects.add_object(
                ua.NodeId(compressor_id, self.namespace_index), compressor_id
            )
            for field, node_id in node_ids(compressor_id, self.namespace_index).items():
                initial = ua.Variant("unknown", ua.VariantType.String) if field == STATE_POINT else (
                    ua.Variant(math.nan, ua.VariantType.Double)
                )  # fmt: skip
                variable = await folder.add_variable(ua.NodeId.from_string(node_id), field, initial)
                self._variables[(compressor_id, field)] = variable
        try:
            await server.start()
        except OSError as exc:
            raise PanelError(f"OPC UA server cannot listen on {self.endpoint} ({exc})") from None
        self._server = server
        await self.refresh()
        log.info("OPC UA panels on %s (%d compressors)", self.endpoint, len(self.compressor_ids))

    async def refresh(self) -> None:
        instant = int(self.clock.now_s()) // self.step_s * self.step_s
        if instant == self.instant_s:
            return
        chunk = self.sim.chunk(np.array([instant], dtype=np.int64), self.idx, step_s=self.step_s)
        stamp = datetime.now(UTC)
        for row, compressor_id in enumerate(self.compressor_ids):
            silent = bool(chunk.reported.unit_dropout[row, 0])
            for field in (*SENSOR_FIELDS, STATE_POINT):
                variable = self._variables[(compressor_id, field)]
                if field == STATE_POINT:
                    variant = ua.Variant(
                        STATE_NAMES[int(chunk.physics.state[row, 0])], ua.VariantType.String
                    )
                    status = ua.StatusCodes.Good
                else:
                    value = float(chunk.reported.values[field][row, 0])
                    variant = ua.Variant(value, ua.VariantType.Double)
                    status = ua.StatusCodes.BadSensorFailure if math.isnan(value) else (
                        ua.StatusCodes.Good
                    )  # fmt: skip
                if silent:
                    status = ua.StatusCodes.BadNoCommunication
                await variable.write_value(  # type: ignore[attr-defined]
                    ua.DataValue(variant, ua.StatusCode(status), SourceTimestamp=stamp)
                )
        self.instant_s = instant

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            while not stop.is_set():
                await self.refresh()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=self.update_s)
        finally:
            await self.stop()

    async def stop(self) -> None:
        if self._server is not None:
            await self._server.stop()
            self._server = None
