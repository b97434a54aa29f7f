"""In-process Modbus TCP panels for tests: real pymodbus servers on loopback.

A `PanelServer` serves one register map's image; `SilentServer` accepts connections
and never answers (a panel that times out).
"""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Mapping
from typing import Any, Self

from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from shared.register_map import RegisterKind, RegisterMap, encode_image
from tests.support.services import free_port, wait_for_port

_SIZE = 200


class ThreadedModbusServer:
    """A pymodbus server for `self.device` on its own event loop in a thread: Modbus TCP on
    127.0.0.1:`self.port` unless `_make_server` says otherwise. Subclasses set `device`
    and `port`, then call `_init_server()`."""

    device: SimDevice
    port: int

    def _init_server(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def _make_server(self) -> Any:
        return ModbusTcpServer(self.device, address=("127.0.0.1", self.port))

    def _wait_ready(self) -> None:
        wait_for_port(self.port)

    def start(self) -> Self:
        async def serve_async() -> None:
            self._server = self._make_server()
            await self._server.serve_forever()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._loop.run_until_complete(serve_async())

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        self._wait_ready()
        return self

    def stop(self) -> None:
        if self._server is not None:
            asyncio.run_coroutine_threadsafe(self._server.shutdown(), self._loop).result(10)
        if self._thread is not None:
            self._thread.join(10)
        self._server = None
        self._loop = asyncio.new_event_loop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()


class PanelServer(ThreadedModbusServer):
    """A panel serving `values` through `register_map`; change them with `set`.

    Addresses outside the first `size` registers answer ILLEGAL_ADDRESS; set
    `refuse` to an ExcCodes member to answer every request with that exception.
    """

    def __init__(
        self,
        register_map: RegisterMap,
        values: Mapping[str, float | str | None],
        *,
        device_id: int = 1,
        size: int = _SIZE,
    ) -> None:
        self.register_map = register_map
        self.port = free_port()
        self.refuse: ExcCodes | None = None
        self.requests = 0
        self._image: dict[int, dict[int, int]] = {3: {}, 4: {}}
        self.set(values)

        def block(kind: DataType) -> list[SimData]:
            return [
                SimData(
                    address=0, count=size, values=kind is not DataType.BITS and 0, datatype=kind
                )
            ]

        bits, registers = DataType.BITS, DataType.REGISTERS
        self.device = SimDevice(
            id=device_id,
            simdata=(block(bits), block(bits), block(registers), block(registers)),
            action=self._action,
        )
        self._init_server()

    async def _action(
        self,
        function_code: int,
        start_address: int,
        address: int,
        count: int,
        registers: list[int],
        set_values: object,
    ) -> ExcCodes | None:
        self.requests += 1
        if self.refuse is not None:
            return self.refuse
        for a, word in self._image.get(function_code, {}).items():
            if 0 <= a - start_address < len(registers):
                registers[a - start_address] = word
        return None

    def set(self, values: Mapping[str, float | str | None]) -> None:
        image = encode_image(self.register_map, values)
        for kind, words in image.items():
            self._image[3 if kind is RegisterKind.HOLDING else 4].update(words)


class SilentServer:
    """Accepts TCP connections and never answers."""

    def __init__(self) -> None:
        self.port = free_port()
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", self.port))
        self._sock.listen(16)
        self._clients: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._accept, daemon=True)

    def _accept(self) -> None:
        self._sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                client, _ = self._sock.accept()
            except OSError:
                continue
            self._clients.append(client)

    def __enter__(self) -> SilentServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for client in self._clients:
            client.close()
        self._sock.close()


class PtyBridge:
    """Two pseudo-terminals wired together, like a null-modem cable (socat without socat).

    `server_port` and `client_port` are /dev/pts/N paths a serial server and client open.
    """

    def __init__(self) -> None:
        import os
        import tty

        self._pairs = [os.openpty() for _ in range(2)]
        for master, slave in self._pairs:
            tty.setraw(master)
            tty.setraw(slave)
        self.server_port = os.ttyname(self._pairs[0][1])
        self.client_port = os.ttyname(self._pairs[1][1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._pump, daemon=True)

    def _pump(self) -> None:
        import os
        import select

        a, b = self._pairs[0][0], self._pairs[1][0]
        while not self._stop.is_set():
            ready, _, _ = select.select([a, b], [], [], 0.1)
            for fd in ready:
                try:
                    data = os.read(fd, 4096)
                except OSError:
                    continue
                os.write(b if fd == a else a, data)

    def __enter__(self) -> PtyBridge:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        import os

        self._stop.set()
        self._thread.join(5)
        for master, slave in self._pairs:
            os.close(master)
            os.close(slave)


class RtuPanelServer(PanelServer):
    """The same panel served as Modbus RTU on a serial line (`port`, e.g. a PtyBridge end)."""

    def __init__(
        self,
        serial_port: str,
        register_map: RegisterMap,
        values: Mapping[str, float | str | None],
        **kwargs: int,
    ) -> None:
        super().__init__(register_map, values, **kwargs)
        self.serial_port = serial_port

    def _make_server(self) -> Any:
        from pymodbus.server import ModbusSerialServer

        return ModbusSerialServer(self.device, port=self.serial_port, baudrate=19200)

    def _wait_ready(self) -> None:  # a serial line has no port to wait for
        pass
