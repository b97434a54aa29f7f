"""One panel: read its register map's blocks, decode, flag every value."""

from __future__ import annotations

import logging
import time
from datetime import datetime

from edge_agent.modbus.link import DeviceRefused, ModbusLink, PanelCommError
from edge_agent.modbus.options import PanelOptions
from shared.messages import PanelState, PanelStatus
from shared.register_map import STATE_POINT, Decoded, RegisterMap, decode_block, read_plan
from shared.schema import SENSOR_FIELDS, OperatingState, Quality, ReadingFlag
from shared.sources import RawReading

log = logging.getLogger(__name__)

#: An auxiliary point with the panel's own clock (Unix seconds), compared with the gateway's.
PANEL_CLOCK_POINT = "panel_clock_s"


class Panel:
    def __init__(self, options: PanelOptions, register_map: RegisterMap) -> None:
        self.options = options
        self.register_map = register_map
        missing = [s for s in SENSOR_FIELDS if not register_map.has(s)]
        if missing:
            log.warning(
                "register map %s has no %s: those values will be comm_error",
                register_map.name,
                ", ".join(missing),
            )
        wanted = [
            p.name
            for p in register_map.points
            if p.name in (*SENSOR_FIELDS, STATE_POINT, PANEL_CLOCK_POINT)
        ]
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

    def poll(self, link: ModbusLink, *, at: datetime, flags: ReadingFlag) -> RawReading:
        """Read every block once; never raises for what the panel or the wire does."""
        values: dict[str, float | None] = {}
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
                if name == PANEL_CLOCK_POINT:
                    if decoded.value is not None and decoded.quality == Quality.OK:
                        self.status.clock_skew_s = round(at.timestamp() - decoded.value, 1)
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
        self._account(at, errors, comm_failed=comm_failed, refused=refused)
        return RawReading(
            compressor_id=self.compressor_id,
            timestamp=at,
            values=values,
            quality=quality,
            operating_state=state,
            flags=flags,
        )

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
