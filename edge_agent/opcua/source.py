"""The `opcua` reading source: one asyncua client on its own thread, readings on a queue.

At start the source connects once and reads every configured node: a node id the
server does not know is a clear start-up error (ConfigError, exit code 2) naming it.
A server that is down at start is not an error: its values are comm_error until it
answers. Values arrive by data-change subscription (or by reads every poll when the
server refuses subscriptions); every `poll_interval_s` each compressor yields a
reading stamped with the gateway's UTC clock from the latest values and their status
codes. A lost connection turns the values comm_error and reconnects with backoff.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import queue
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from asyncua import Client, ua

from edge_agent.errors import PanelError
from edge_agent.opcua.options import OpcUaOptions, parse_options
from shared.errors import ConfigError
from shared.messages import PanelState, PanelStatus
from shared.register_map import STATE_POINT
from shared.schema import SENSOR_FIELDS, OperatingState, Quality
from shared.sources import RawReading

log = logging.getLogger(__name__)

_COMM = {
    "BadCommunicationError", "BadNotConnected", "BadTimeout", "BadServerNotConnected",
    "BadNoCommunication", "BadWaitingForInitialData", "BadConnectionClosed",
    "BadSecureChannelClosed", "BadServerHalted",
}  # fmt: skip
_UNKNOWN_NODE = {"BadNodeIdUnknown", "BadNodeIdInvalid"}


def quality_of(status: ua.StatusCode) -> Quality:
    """An OPC UA status code as the agent's quality code."""
    if status.is_good():
        return Quality.OK
    if status.is_uncertain():
        return Quality.STALE  # e.g. UncertainLastUsableValue: the server's own staleness
    name = status.name
    if name in _COMM:
        return Quality.COMM_ERROR
    if name in ("BadOutOfRange", "BadEngineeringUnitsExceeded"):
        return Quality.OUT_OF_RANGE
    return Quality.DEVICE_EXCEPTION  # the server answered and refused: the device's verdict


class UnknownNodes(ConfigError):
    """Configured node ids the server does not have."""


class _Latest:
    """The newest value of every (compressor, field), with its quality (thread-safe)."""

    def __init__(self, options: OpcUaOptions) -> None:
        self.lock = threading.Lock()
        self.values: dict[tuple[str, str], tuple[Any, Quality]] = {
            (p.compressor_id, f): (None, Quality.COMM_ERROR)
            for p in options.panels
            for f in p.nodes
        }
        self.status = {p.compressor_id: PanelStatus() for p in options.panels}

    def set(self, key: tuple[str, str], value: Any, quality: Quality, skew: float | None) -> None:
        with self.lock:
            self.values[key] = (value, quality)
            if skew is not None:
                self.status[key[0]].clock_skew_s = round(skew, 1)

    def lost(self, reason: str) -> None:
        with self.lock:
            for key in self.values:
                self.values[key] = (None, Quality.COMM_ERROR)
            for status in self.status.values():
                status.last_error = reason[:300]


class _Handler:
    """asyncua calls this for every data change of a subscribed node."""

    def __init__(self, latest: _Latest, keys: dict[str, tuple[str, str]]) -> None:
        self.latest = latest
        self.keys = keys

    def datachange_notification(self, node: Any, val: Any, data: Any) -> None:
        key = self.keys.get(node.nodeid.to_string())
        if key is None:
            return
        _record(self.latest, key, data.monitored_item.Value)


def _record(latest: _Latest, key: tuple[str, str], value: ua.DataValue) -> None:
    status = value.StatusCode or ua.StatusCode(ua.StatusCodes.Good)
    skew = None
    if value.SourceTimestamp is not None:
        source = value.SourceTimestamp
        source = source if source.tzinfo else source.replace(tzinfo=UTC)
        skew = (datetime.now(UTC) - source).total_seconds()
    number = value.Value.Value if value.Value is not None else None
    latest.set(key, number, quality_of(status), skew)


class OpcUaSource:
    def __init__(self, options: OpcUaOptions) -> None:
        self.options = options
        self.poll_interval_s = options.poll_interval_s
        self.clock_jumps = 0
        self._latest = _Latest(options)
        self._queue: queue.Queue[RawReading] = queue.Queue()
        self._keys = {
            node: (p.compressor_id, f) for p in options.panels for f, node in p.nodes.items()
        }
        self._states = {p.compressor_id: p.states for p in options.panels}
        self._loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._checked = threading.Event()
        self._start_error: BaseException | None = None
        self._down = False
        self._thread = threading.Thread(target=self._run, name="opcua", daemon=True)
        self._thread.start()
        self._checked.wait(options.start_check_s + options.timeout_s)
        if self._start_error is not None:
            self.close()
            raise self._start_error

    # -- the agent's side ----------------------------------------------------------

    def poll(self) -> list[RawReading]:
        readings: list[RawReading] = []
        while True:
            try:
                readings.append(self._queue.get_nowait())
            except queue.Empty:
                return readings

    def panel_status(self) -> dict[str, PanelStatus]:
        with self._latest.lock:
            return {k: v.model_copy() for k, v in self._latest.status.items()}

    def close(self) -> None:
        if self._loop.is_running():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=10)

    # -- the client thread ------------------------------------------------------------

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._checked.set()
            self._loop.close()

    async def _main(self) -> None:
        emitter = asyncio.create_task(self._emit_loop())
        backoff = self.options.reconnect_min_s
        first = True
        while not self._stop.is_set():
            try:
                await self._session(first=first)
                backoff = self.options.reconnect_min_s
            except UnknownNodes as exc:
                if first:
                    self._start_error = exc
                    self._checked.set()
                    break
                log.error("%s", exc)
            except (OSError, TimeoutError, ConnectionError, ua.UaError, PanelError) as exc:
                reason = f"{self.options.endpoint}: {type(exc).__name__}: {exc}"
                if not self._down:
                    log.warning("OPC UA server unreachable (%s); reconnecting with backoff", reason)
                    self._down = True
                self._latest.lost(reason)
            first = False
            self._checked.set()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), timeout=backoff)
            backoff = min(backoff * 2, self.options.reconnect_max_s)
        emitter.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await emitter

    async def _session(self, *, first: bool) -> None:
        o = self.options
        client = Client(o.endpoint, timeout=o.timeout_s)
        await client.connect()
        try:
            nodes = {node_id: client.get_node(node_id) for node_id in self._keys}
            values = await client.read_attributes(list(nodes.values()))
            unknown = [
                f"{self._keys[n][0]}.{self._keys[n][1]} = {n}"
                for n, v in zip(nodes, values, strict=True)
                if v.StatusCode is not None and v.StatusCode.name in _UNKNOWN_NODE
            ]
            if unknown and first:
                raise UnknownNodes(
                    f"source.options: OPC UA server {o.endpoint} has no node(s) {'; '.join(unknown)}"
                )
            for node_id, value in zip(nodes, values, strict=True):
                _record(self._latest, self._keys[node_id], value)
            log.info("OPC UA %s connected (%d node(s))", o.endpoint, len(nodes))
            self._down = False
            self._checked.set()
            subscribed = o.subscribe and await self._subscribe(client, nodes)
            while not self._stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), timeout=o.poll_interval_s)
                if subscribed:
                    await client.check_connection()
                else:
                    values = await client.read_attributes(list(nodes.values()))
                    for node_id, value in zip(nodes, values, strict=True):
                        _record(self._latest, self._keys[node_id], value)
        finally:
            with contextlib.suppress(Exception):
                await client.disconnect()

    async def _subscribe(self, client: Client, nodes: Mapping[str, Any]) -> bool:
        try:
            handler = _Handler(self._latest, self._keys)
            subscription = await client.create_subscription(
                self.options.publishing_interval_ms, handler
            )
            await subscription.subscribe_data_change(list(nodes.values()))
        except ua.UaStatusCodeError as exc:
            log.warning("OPC UA subscriptions refused (%s); reading every poll instead", exc)
            return False
        return True

    async def _emit_loop(self) -> None:
        while True:
            await asyncio.sleep(self.options.poll_interval_s)
            at = datetime.now(UTC)
            for panel in self.options.panels:
                self._queue.put(self._reading(panel.compressor_id, at))

    def _reading(self, compressor_id: str, at: datetime) -> RawReading:
        values: dict[str, float | None] = {}
        quality: dict[str, Quality] = {}
        state = OperatingState.UNKNOWN
        with self._latest.lock:
            fields = {f: v for (c, f), v in self._latest.values.items() if c == compressor_id}
            for name, (value, code) in fields.items():
                if name == STATE_POINT:
                    state = self._state(compressor_id, value) if code == Quality.OK else state
                    continue
                number = _number(value)
                values[name] = number
                # A Good status on something that is not a number: the node is misconfigured.
                bad_type = number is None and code == Quality.OK
                quality[name] = Quality.DEVICE_EXCEPTION if bad_type else code
            for sensor in SENSOR_FIELDS:
                quality.setdefault(sensor, Quality.COMM_ERROR)
            self._account(compressor_id, at, quality)
        return RawReading(compressor_id, at, values, quality, state)

    def _state(self, compressor_id: str, value: Any) -> str:
        states = self._states.get(compressor_id)
        if states is not None and isinstance(value, int):
            return states.get(value, OperatingState.UNKNOWN)
        text = str(value)
        return text if text in OperatingState.ALL else OperatingState.UNKNOWN

    def _account(self, compressor_id: str, at: datetime, quality: dict[str, Quality]) -> None:
        status = self._latest.status[compressor_id]
        status.polls += 1
        codes = set(quality.values())
        if codes <= {Quality.COMM_ERROR}:
            new_state = PanelState.COMM_ERROR
        elif Quality.DEVICE_EXCEPTION in codes and not codes & {Quality.OK, Quality.STALE}:
            new_state = PanelState.DEVICE_EXCEPTION
        else:
            new_state = PanelState.OK
        if new_state != PanelState.OK:
            status.failed_polls += 1
        elif status.state != PanelState.OK:
            status.last_error = None
        if new_state == PanelState.OK:
            status.last_ok_at = at.isoformat()
        status.state = new_state


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def OpcUaSourceFactory(
    *, station_id: str, options: Mapping[str, Any], resume_after: datetime | None = None
) -> OpcUaSource:
    """Entry point `altaviz.sources: opcua` (the gateway's clock, no resume)."""
    del station_id, resume_after
    return OpcUaSource(parse_options(dict(options)))
