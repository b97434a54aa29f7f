"""The `source.options` of the `modbus` source: which panels, where, how often."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge_agent.errors import RegisterMapError
from shared.errors import ConfigError
from shared.ids import CompressorId


class PanelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    compressor_id: CompressorId
    #: A map name in `maps_dir` (config/register_maps/<name>.yaml).
    register_map: str
    transport: Literal["tcp", "rtu"] = "tcp"
    #: Framing on a tcp transport: `socket` (Modbus TCP, MBAP header) or `rtu` (RTU frames
    #: with CRC over TCP, as serial device servers pass them through).
    framer: Literal["socket", "rtu"] = "socket"
    #: What stamps a reading: `gateway` (this machine's UTC clock) or `panel` (the map's
    #: panel_clock_s register: simulated or replayed time; a reading whose panel clock has
    #: not moved since the last one is not taken again).
    clock: Literal["gateway", "panel"] = "gateway"
    host: str | None = None
    port: int = Field(502, ge=1, le=65535)
    serial_port: str | None = None
    baudrate: int = 19200
    parity: Literal["N", "E", "O"] = "N"
    stopbits: int = Field(1, ge=1, le=2)
    bytesize: int = Field(8, ge=7, le=8)
    #: The Modbus unit / slave id (several panels may share one RTU bus or TCP gateway).
    device_id: int = Field(1, ge=0, le=247)
    poll_interval_s: float = Field(1.0, gt=0)
    #: One request's timeout, and how many times a failed request is retried (with backoff).
    timeout_s: float = Field(1.0, gt=0)
    retries: int = Field(2, ge=0, le=10)
    backoff_s: float = Field(0.1, ge=0)
    #: After a panel stops answering, reconnects wait backoff doubling up to this.
    reconnect_max_s: float = Field(30.0, gt=0)
    #: A value unchanged for this long is STALE (null: never).
    stale_after_s: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _endpoint(self) -> Self:
        if self.transport == "tcp" and not self.host:
            raise ValueError("a tcp panel needs `host`")
        if self.transport == "rtu" and not self.serial_port:
            raise ValueError("an rtu panel needs `serial_port`")
        return self

    @property
    def endpoint(self) -> str:
        """Panels with the same endpoint share one connection (and take turns on it)."""
        if self.transport == "tcp":
            scheme = "tcp" if self.framer == "socket" else "rtu+tcp"
            return f"{scheme}://{self.host}:{self.port}"
        return f"rtu://{self.serial_port}"


class ModbusOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    maps_dir: Path | None = None
    #: How often the agent collects what the panels delivered.
    poll_interval_s: float = Field(1.0, gt=0)
    #: Gateway wall clock moving this much more or less than the monotonic clock is a jump.
    clock_jump_s: float = Field(2.0, gt=0)
    panels: list[PanelOptions] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [p.compressor_id for p in self.panels]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"compressor id(s) polled twice: {twice}")
        return self


def parse_options(options: dict[str, Any]) -> ModbusOptions:
    try:
        return ModbusOptions.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(options)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"source.options.{where}: {message}") from None


__all__ = ["ModbusOptions", "PanelOptions", "RegisterMapError", "parse_options"]
