"""One panel: read its register map's blocks, decode, flag every value."""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from edge_agent.errors import RegisterMapError
from edge_agent.modbus.link import DeviceRefused, LinkStats, ModbusLink, PanelCommError
from edge_agent.modbus.options import PanelOptions
from shared.messages import PanelState, PanelStatus
from shared.register_map import (
    CLOCK_POINT,
    STATE_POINT,
    Decoded,
    RegisterMap,
    decode_block,
    read_plan,
)
from shared.schema import SENSOR_FIELDS, OperatingState, Quality, ReadingFlag
from shared.sources import RawReading

log = logging.getLogger(__name__)

#: An auxiliary point with the panel's own clock (Unix seconds), compared with the gateway's.


class Panel:
    def __init__(
        self,
        options: PanelOptions,
        register_map: RegisterMap,
        *,
        resume_after: datetime | None = None,
    ) -> None:
        """`resume_after`: with the panel's clock, values stamped at or before it are
        already buffered (a restart) and are not taken again."""
        self.options = options
        self.register_map = register_map
        self.panel_clock = options.clock == "panel"
        if self.panel_clock and not register_map.has(CLOCK_POINT):
            raise RegisterMapError(
                f"register map {register_map.name} has no {CLOCK_POINT}: "
                f"panel {options.compressor_id} cannot use clock: panel"
            )
        self._last_clock: float | None = None
        self._stats: LinkStats | None = None
        self._resume_s = None if resume_after is None else resume_after.timestamp()
        missing = [s for s in SENSOR_FIELDS if not register_map.has(s)]
        if missing:
            log.warning(
                "register map %s has no %s: those values will be comm_error",
                register_map.name,
                ", ".join(missing),
            )
        # The panel clock: stamps readings (clock: panel) or is compared with the gateway's.
        names = (*SENSOR_FIELDS, STATE_POINT, CLOCK_POINT)
        wanted = [p.name for p in register_map.points if p.name in names]
        self.blocks = read_plan(register_map, names=wanted)
        self.status = PanelStatus()
        self._last_value: dict[str, tuple[float | None, float]] = {}
        self.next_due = 0.0
        # A unit that stopped answering is asked again after a backoff, so that on a
        # shared bus or gateway it does not hold up the units that still answer.
        self._backoff_s = 0.0
        self._skip_until = 0.0

    @property
    def compressor_id(self) -> str:
        return self.options.compressor_id

    def poll(self, link: ModbusLink, *, at: datetime, flags: ReadingFlag) -> RawReading | None:
        """Read every block once; never raises for what the panel or the wire does.

        None: the panel's clock has not moved since the last reading (nothing new). A
        panel that does not answer is stamped with its station's clock as the other units
        on the same link last reported it."""
        values: dict[str, float | None] = {}
        panel_clock_s: float | None = None
        quality: dict[str, Quality] = {}
        state = OperatingState.UNKNOWN
        errors: list[str] = []
        comm_failed = refused = False
        if time.monotonic() < self._skip_until:
            comm_failed = True
            errors.append(
                f"{self.status.last_error or 'no answer'} (retrying in "
                f"{self._skip_until - time.monotonic():.1f}s)"
            )
        for block in self.blocks:
            names = [p.name for p in block.points]
            if comm_failed:
                result: list[int] | DeviceRefused | None = None
            else:
                try:
                    result = link.read(
                        block.kind, block.address, block.quantity, device_id=self.options.device_id
                    )
                except PanelCommError as exc:
                    comm_failed = True
                    errors.append(str(exc))
                    result = None
            sensors = [n for n in names if n != STATE_POINT]
            if result is None:
                quality.update(dict.fromkeys(sensors, Quality.COMM_ERROR))
                continue
            if isinstance(result, DeviceRefused):
                refused = True
                errors.append(
                    f"exception code {result.exception_code} reading {block.kind} "
                    f"{block.address}+{block.quantity}"
                )
                quality.update(dict.fromkeys(sensors, Quality.DEVICE_EXCEPTION))
                continue
            for name, decoded in decode_block(self.register_map, block, result).items():
                if name == STATE_POINT:
                    state = str(decoded[0]) if decoded[1] == Quality.OK else OperatingState.UNKNOWN
                    continue
                assert isinstance(decoded, Decoded)
                if name == CLOCK_POINT:
                    panel_clock_s = decoded.value if decoded.quality == Quality.OK else None
                    if panel_clock_s is not None and not self.panel_clock:
                        # A panel on its own clock: how far the gateway's is from it. (With
                        # clock: panel the readings carry the panel's time, so no skew.)
                        self.status.clock_skew_s = round(at.timestamp() - panel_clock_s, 1)
                    continue
                values[name] = decoded.value
                quality[name] = self._staleness(name, decoded)
        for sensor in SENSOR_FIELDS:
            quality.setdefault(sensor, Quality.COMM_ERROR)
        if comm_failed and time.monotonic() >= self._skip_until:
            self._backoff_s = min(
                max(self._backoff_s * 2, self.options.poll_interval_s), self.options.reconnect_max_s
            )
            self._skip_until = time.monotonic() + self._backoff_s
        elif not comm_failed:
            self._backoff_s = 0.0
        self._stats = link.stats.get(self.options.device_id)
        if self.panel_clock:
            if panel_clock_s is not None:
                link.panel_clock_s = panel_clock_s
            else:  # no answer: the station's clock as its other units last told it
                panel_clock_s = link.panel_clock_s
            if (
                panel_clock_s is None
                or panel_clock_s == self._last_clock
                or (self._resume_s is not None and panel_clock_s <= self._resume_s)
            ):
                if self._last_clock is not None:  # last_ok_at stays in the panel's time
                    at = datetime.fromtimestamp(self._last_clock, UTC)
                self._account(at, errors, comm_failed=comm_failed, refused=refused)
                return None  # nothing new since the last reading
            self._last_clock = panel_clock_s
            at = datetime.fromtimestamp(panel_clock_s, UTC)
        self._account(at, errors, comm_failed=comm_failed, refused=refused)
        return RawReading(
            compressor_id=self.compressor_id,
            timestamp=at,
            values=values,
            quality=quality,
            operating_state=state,
            flags=flags,
        )

    def status_now(self) -> PanelStatus:
        """The panel's status with its request counts and latency so far (a copy)."""
        status = self.status.model_copy()
        stats = self._stats
        if stats is not None:
            status.requests = stats.requests
            status.errors = stats.errors
            status.timeouts = stats.timeouts
            status.latency_p95_ms = stats.latency_p95_ms()
        return status

    def _staleness(self, name: str, decoded: Decoded) -> Quality:
        limit = self.options.stale_after_s
        if limit is None or decoded.quality != Quality.OK:
            return decoded.quality
        now = time.monotonic()
        previous = self._last_value.get(name)
        if previous is None or previous[0] != decoded.value:
            self._last_value[name] = (decoded.value, now)
            return decoded.quality
        return Quality.STALE if now - previous[1] >= limit else decoded.quality

    def _account(
        self, at: datetime, errors: list[str], *, comm_failed: bool, refused: bool
    ) -> None:
        status = self.status
        status.polls += 1
        if comm_failed or refused:
            status.failed_polls += 1
            if "retrying in" not in errors[0]:
                status.last_error = "; ".join(errors)[:300]
            new_state = PanelState.COMM_ERROR if comm_failed else PanelState.DEVICE_EXCEPTION
            if status.state != new_state:
                log.warning(
                    "panel %s: %s (%s)", self.compressor_id, new_state.value, status.last_error
                )
            status.state = new_state
        else:
            if status.state not in (PanelState.OK, PanelState.UNKNOWN):
                log.info("panel %s answers again", self.compressor_id)
            status.state = PanelState.OK
            status.last_ok_at = at.isoformat()
