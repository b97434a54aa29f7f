"""The simulator's OPC UA panels in-process for tests: a real asyncua server on loopback."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

from asyncua import ua

from shared.fleet import load_fleet
from simulator.engine import Simulation
from simulator.live import LiveClock
from simulator.opcua import OpcUaPanels
from tests.simulator.support import scenario
from tests.support.services import free_port

STATION = "EF-KARNES"


class OpcUaPanelServer:
    """One station's compressors at a frozen simulated instant (values change only when told)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"opc.tcp://127.0.0.1:{self.port}/altaviz/"
        sim = Simulation(load_fleet(), scenario(resolution_s=1), stations=[STATION])
        self.panels = OpcUaPanels(
            sim, clock=LiveClock(sim.scenario.start_s + 3600, speed=0), endpoint=self.endpoint,
            update_s=0.2,
        )  # fmt: skip
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread: threading.Thread | None = None

    @property
    def compressor_ids(self) -> list[str]:
        return self.panels.compressor_ids

    def start(self) -> OpcUaPanelServer:
        started = threading.Event()

        async def serve() -> None:
            self._stop = asyncio.Event()
            await self.panels.start()
            started.set()
            await self._stop.wait()
            await self.panels.stop()

        def run() -> None:
            self._loop = asyncio.new_event_loop()
            self._loop.run_until_complete(serve())
            self._loop.close()

        self.panels.instant_s = None
        self._thread = threading.Thread(target=run, daemon=True)
        self._thread.start()
        assert started.wait(60), "the OPC UA server did not start"
        return self

    def stop(self) -> None:
        assert self._loop is not None and self._stop is not None and self._thread is not None
        self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)

    def set_status(self, compressor_id: str, field: str, status: Any, value: float = 1.0) -> None:
        """Write a value with an OPC UA status code, as a device reporting trouble would."""
        assert self._loop is not None
        variable: Any = self.panels._variables[(compressor_id, field)]
        data = ua.DataValue(ua.Variant(value, ua.VariantType.Double), ua.StatusCode(status))
        asyncio.run_coroutine_threadsafe(variable.write_value(data), self._loop).result(10)
