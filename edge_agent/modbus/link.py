"""One Modbus connection (TCP socket or RTU serial line) with bounded retries.

"The device refused" is not "the link failed": a Modbus exception response comes
back as `DeviceRefused` (the caller flags the values device_exception); no answer
after `retries` attempts raises `PanelCommError`. A request that timed out drops
the connection (a late answer must not be taken for the next request's) and the
next attempt reconnects at once; only a failed *connect* (the endpoint is down)
backs off, doubling up to `reconnect_max_s`. One unit that stops answering behind
a shared gateway is backed off by its `Panel`, not by the connection.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass, field

from pymodbus import FramerType
from pymodbus.client import ModbusSerialClient, ModbusTcpClient
from pymodbus.exceptions import ModbusException, ModbusIOException

from edge_agent.errors import PanelError
from edge_agent.modbus.options import PanelOptions
from shared.register_map import RegisterKind

log = logging.getLogger(__name__)


class PanelCommError(PanelError):
    """No usable answer after bounded retries (timeout, refused or dropped socket)."""


@dataclass(frozen=True)
class DeviceRefused:
    """The panel answered with a Modbus exception response."""

    exception_code: int


@dataclass
class LinkStats:
    """One unit's requests on a link: counts and the latencies of recent answers."""

    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    latencies_s: deque[float] = field(default_factory=lambda: deque(maxlen=1000))

    def latency_p95_ms(self) -> float | None:
        if not self.latencies_s:
            return None
        ordered = sorted(self.latencies_s)
        return round(1000 * ordered[min(len(ordered) - 1, int(0.95 * len(ordered)))], 2)


class ModbusLink:
    def __init__(self, options: PanelOptions) -> None:
        self.options = options
        self.endpoint = options.endpoint
        self._client: ModbusTcpClient | ModbusSerialClient | None = None
        self._backoff_s = 0.0
        self._next_connect = 0.0
        self.last_problem = ""
        self.stats: dict[int, LinkStats] = {}
        #: The newest panel clock (Unix s) any unit on this link reported.
        self.panel_clock_s: float | None = None

    def _make_client(self) -> ModbusTcpClient | ModbusSerialClient:
        o = self.options
        # pymodbus's own retries are off: ours are bounded, logged and backed off.
        if o.transport == "tcp":
            assert o.host is not None
            framer = FramerType.RTU if o.framer == "rtu" else FramerType.SOCKET
            return ModbusTcpClient(
                o.host, port=o.port, framer=framer, timeout=o.timeout_s, retries=0
            )
        assert o.serial_port is not None
        return ModbusSerialClient(
            o.serial_port,
            baudrate=o.baudrate,
            parity=o.parity,
            stopbits=o.stopbits,
            bytesize=o.bytesize,
            timeout=o.timeout_s,
            retries=0,
        )

    def _connected_client(self) -> ModbusTcpClient | ModbusSerialClient:
        if self._client is not None and self._client.connected:
            return self._client
        now = time.monotonic()
        if now < self._next_connect:
            raise PanelCommError(
                f"{self.last_problem or self.endpoint} (next reconnect in "
                f"{self._next_connect - now:.1f}s)"
            )
        self.close()
        client = self._make_client()
        if not client.connect():
            self._fail()
            raise PanelCommError(f"{self.endpoint}: cannot connect")
        self._client = client
        return client

    def _fail(self) -> None:
        self.close()
        self._backoff_s = min(
            max(self._backoff_s * 2, self.options.backoff_s or 0.1), self.options.reconnect_max_s
        )
        self._next_connect = time.monotonic() + self._backoff_s

    def read(
        self, kind: RegisterKind, address: int, count: int, *, device_id: int
    ) -> list[int] | DeviceRefused:
        """Read registers; a Modbus exception is a value, silence raises after retries."""
        attempts = self.options.retries + 1
        problem = ""
        stats = self.stats.setdefault(device_id, LinkStats())
        for attempt in range(attempts):
            try:
                client = self._connected_client()
                stats.requests += 1
                sent = time.monotonic()
                if kind is RegisterKind.HOLDING:
                    response = client.read_holding_registers(
                        address, count=count, device_id=device_id
                    )
                else:
                    response = client.read_input_registers(
                        address, count=count, device_id=device_id
                    )
            except PanelCommError as exc:
                if "next reconnect" in str(exc):
                    raise
                problem = str(exc)
            except (ModbusException, OSError) as exc:
                problem = f"{self.endpoint} unit {device_id}: {type(exc).__name__}: {exc}"
                if isinstance(exc, ModbusIOException | TimeoutError):
                    stats.timeouts += 1
                else:
                    stats.errors += 1
                self.close()
            else:
                if response.isError():
                    stats.errors += 1
                    code = getattr(response, "exception_code", None)
                    if code is not None:
                        stats.latencies_s.append(time.monotonic() - sent)
                        self._backoff_s = 0.0
                        return DeviceRefused(int(code))
                    problem = f"{self.endpoint}: {response}"
                    self.close()
                else:
                    stats.latencies_s.append(time.monotonic() - sent)
                    self._backoff_s = 0.0
                    return list(response.registers)
            if attempt + 1 < attempts and self.options.backoff_s:
                time.sleep(self.options.backoff_s * (2**attempt))
        self.last_problem = f"no answer after {attempts} attempt(s): {problem}"
        raise PanelCommError(self.last_problem)

    def close(self) -> None:
        if self._client is not None:
            try:
                self._client.close()
            except Exception:  # closing a broken client must not take the poller down
                log.debug("error closing %s", self.endpoint, exc_info=True)
            self._client = None
