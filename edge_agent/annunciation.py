"""On-site annunciation: open alarm episodes drive a horn, beacon or PLC alarm bit over Modbus.

The station already has the outputs (a relay module, a PLC); the agent writes a coil
or holding register on that device while an episode of at least the output's
severity is open, and writes it back off when the episodes clear. A technician's
acknowledge button (a coil the HMI sets, or a discrete input wired to a push button)
is read back every poll: a press acknowledges every open episode (recorded on the
episode by the agent thread) and silences the outputs marked `silence_on_ack` (a
horn), while a beacon stays lit until the episode clears.

The device I/O runs on its own thread: a dead relay module never stalls the agent
loop. A device that does not answer or answers with an exception is reported in
the status (state, last error), retried every poll, never a crash.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pymodbus.client import ModbusTcpClient
from pymodbus.exceptions import ModbusException

from shared.messages import AlarmSeverity

log = logging.getLogger(__name__)

_SEVERITY_RANK = {AlarmSeverity.INFO: 0, AlarmSeverity.WARNING: 1, AlarmSeverity.CRITICAL: 2}
#: Outputs are written again this often even when unchanged (a PLC that restarted forgets them).
_REASSERT_S = 10.0


class OutputPoint(BaseModel):
    """One output: a coil, or a holding register written with on_value / off_value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(pattern=r"^[a-z0-9_]{1,32}$")
    kind: Literal["coil", "holding"] = "coil"
    address: int = Field(ge=0, le=65535)
    on_value: int = Field(1, ge=0, le=65535)
    off_value: int = Field(0, ge=0, le=65535)
    #: The least severe episode that drives this output.
    min_severity: AlarmSeverity = AlarmSeverity.WARNING
    #: A horn falls silent when acknowledged; a beacon (false) stays on until the episode clears.
    silence_on_ack: bool = True


class AckInput(BaseModel):
    """The technician's acknowledge button, read back every poll."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: Literal["coil", "discrete"] = "discrete"
    address: int = Field(ge=0, le=65535)
    #: Coils only: write the coil back to 0 once a press was read (an HMI's momentary button).
    reset: bool = True


class AnnunciationSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    enabled: bool = False
    host: str | None = None
    port: int = Field(502, ge=1, le=65535)
    device_id: int = Field(1, ge=0, le=247)
    timeout_s: float = Field(1.0, gt=0)
    #: How often outputs are brought up to date and the acknowledge input is read.
    poll_interval_s: float = Field(0.5, gt=0)
    outputs: list[OutputPoint] = Field(default_factory=list)
    ack: AckInput | None = None

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        if not self.enabled:
            return self
        if not self.host:
            raise ValueError("annunciation needs `host` (the relay module or PLC)")
        if not self.outputs:
            raise ValueError("annunciation needs at least one output")
        names = [o.name for o in self.outputs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"output name(s) used twice: {twice}")
        used: dict[tuple[str, int], str] = {}
        for output in self.outputs:
            key = (output.kind, output.address)
            if key in used:
                raise ValueError(
                    f"output {output.name!r}: {output.kind} {output.address} is already "
                    f"output {used[key]!r}"
                )
            used[key] = output.name
        if self.ack is not None and self.ack.kind == "coil" and ("coil", self.ack.address) in used:
            raise ValueError(
                f"ack coil {self.ack.address} is also output {used[('coil', self.ack.address)]!r}"
            )
        return self


@dataclass(frozen=True)
class OpenEpisode:
    episode_id: str
    severity: AlarmSeverity
    acknowledged: bool


def desired_outputs(
    outputs: list[OutputPoint], episodes: list[OpenEpisode], *, station_fault: bool = False
) -> dict[str, bool]:
    """Which outputs should be on for these open episodes (and a station fault, critical)."""
    desired = {}
    for output in outputs:
        floor = _SEVERITY_RANK[output.min_severity]
        desired[output.name] = station_fault or any(
            _SEVERITY_RANK[e.severity] >= floor and not (e.acknowledged and output.silence_on_ack)
            for e in episodes
        )
    return desired


class Annunciator:
    """Drives the outputs and reads the acknowledge input on its own thread."""

    def __init__(self, settings: AnnunciationSettings) -> None:
        self.settings = settings
        self._lock = threading.Lock()
        self._episodes: list[OpenEpisode] = []
        self._station_fault = False
        self._acks: list[datetime] = []
        self._written: dict[str, bool] = {}
        self._written_at = 0.0
        self._ack_was_pressed = False
        self.state = "unknown"  # ok | comm_error | device_exception
        self.last_error: str | None = None
        self.last_ack_at: str | None = None
        self.writes = 0
        self._client: ModbusTcpClient | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="annunciation", daemon=True)

    @property
    def device(self) -> str:
        s = self.settings
        return f"tcp://{s.host}:{s.port} unit {s.device_id}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop polling; outputs keep their last state (a restart must not silence a horn)."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        if self._client is not None:
            self._client.close()

    # -- the agent thread's side --------------------------------------------------

    def set_episodes(self, episodes: list[OpenEpisode], *, station_fault: bool = False) -> None:
        with self._lock:
            changed = episodes != self._episodes or station_fault != self._station_fault
            self._episodes = list(episodes)
            self._station_fault = station_fault
        if changed:
            self._wake.set()

    def take_acks(self) -> list[datetime]:
        """Acknowledge presses read since the last call (the agent records them)."""
        with self._lock:
            acks, self._acks = self._acks, []
        return acks

    def status(self) -> dict[str, Any]:
        with self._lock:
            desired = desired_outputs(
                self.settings.outputs, self._episodes, station_fault=self._station_fault
            )
            written = dict(self._written)
        return {
            "device": self.device,
            "state": self.state,
            "last_error": self.last_error,
            "outputs": {
                name: {"desired": "on" if on else "off", "written": _on_off(written.get(name))}
                for name, on in desired.items()
            },
            "last_ack_at": self.last_ack_at,
        }

    # -- the device thread ----------------------------------------------------------

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._cycle()
            except Exception:  # a bug must not stop the horn for good
                log.exception("annunciation: unexpected error")
            self._wake.wait(self.settings.poll_interval_s)
            self._wake.clear()

    def _connected(self) -> ModbusTcpClient:
        if self._client is None:
            s = self.settings
            assert s.host is not None
            self._client = ModbusTcpClient(s.host, port=s.port, timeout=s.timeout_s, retries=0)
        if not self._client.connected and not self._client.connect():
            raise ConnectionError(f"{self.device}: cannot connect")
        return self._client

    def _cycle(self) -> None:
        with self._lock:
            desired = desired_outputs(
                self.settings.outputs, self._episodes, station_fault=self._station_fault
            )
            stale = time.monotonic() - self._written_at > _REASSERT_S
            todo = {n: on for n, on in desired.items() if stale or self._written.get(n) != on}
        try:
            client = self._connected()
            for output in self.settings.outputs:
                if output.name in todo:
                    self._write(client, output, todo[output.name])
            if self.settings.ack is not None:
                self._read_ack(client, self.settings.ack)
        except (ConnectionError, ModbusException, OSError) as exc:
            self._trouble("comm_error", str(exc))
            if self._client is not None:
                self._client.close()
            return
        except _Refused as exc:
            self._trouble("device_exception", str(exc))
            return
        if self.state != "ok":
            log.info("annunciation device %s answers", self.device)
        self.state, self.last_error = "ok", None
        if len(todo) == len(desired):
            self._written_at = time.monotonic()

    def _trouble(self, state: str, error: str) -> None:
        if self.state != state:
            log.error("annunciation device %s: %s (%s)", self.device, state, error)
        self.state, self.last_error = state, error[:300]

    def _write(self, client: ModbusTcpClient, output: OutputPoint, on: bool) -> None:
        unit = self.settings.device_id
        if output.kind == "coil":
            response = client.write_coil(output.address, on, device_id=unit)
        else:
            value = output.on_value if on else output.off_value
            response = client.write_register(output.address, value, device_id=unit)
        _check(response, f"writing {output.kind} {output.address} ({output.name})")
        with self._lock:
            if self._written.get(output.name) != on:
                log.warning("annunciation %s %s", output.name, "ON" if on else "off")
            self._written[output.name] = on
        self.writes += 1

    def _read_ack(self, client: ModbusTcpClient, ack: AckInput) -> None:
        unit = self.settings.device_id
        if ack.kind == "coil":
            response = client.read_coils(ack.address, count=1, device_id=unit)
        else:
            response = client.read_discrete_inputs(ack.address, count=1, device_id=unit)
        _check(response, f"reading {ack.kind} {ack.address} (acknowledge)")
        pressed = bool(response.bits[0])
        rising = pressed and not self._ack_was_pressed
        # A coil that is reset after each press reads as a fresh press every time it is set.
        self._ack_was_pressed = pressed and not (ack.kind == "coil" and ack.reset)
        if not rising:
            return
        at = datetime.now(UTC)
        with self._lock:
            self._acks.append(at)
        self.last_ack_at = at.isoformat()
        log.warning("annunciation: acknowledge pressed on %s %s", ack.kind, ack.address)
        if ack.kind == "coil" and ack.reset:
            _check(
                client.write_coil(ack.address, False, device_id=unit),
                f"resetting ack coil {ack.address}",
            )


class _Refused(Exception):
    """The device answered with a Modbus exception."""


def _check(response: Any, what: str) -> None:
    if response.isError():
        code = getattr(response, "exception_code", None)
        raise _Refused(f"{what}: exception code {code}")


def _on_off(value: bool | None) -> str:
    return "unknown" if value is None else ("on" if value else "off")
