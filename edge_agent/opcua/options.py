"""The `source.options` of the `opcua` source: the server, and each compressor's node ids."""

from __future__ import annotations

from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from shared.errors import ConfigError
from shared.ids import CompressorId
from shared.register_map import STATE_POINT
from shared.schema import SENSOR_FIELDS

KNOWN_FIELDS = (*SENSOR_FIELDS, STATE_POINT)


class OpcUaPanel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    compressor_id: CompressorId
    #: Reading field -> node id ("ns=2;s=COMP-001.vibration_mms", "ns=3;i=1012").
    nodes: dict[str, str] = Field(min_length=1)
    #: A numeric state node: code -> operating state (a string node carries the name itself).
    states: dict[int, str] | None = None

    @field_validator("nodes")
    @classmethod
    def _known(cls, nodes: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(nodes) - set(KNOWN_FIELDS))
        if unknown:
            raise ValueError(f"unknown field(s) {unknown} (known: {', '.join(KNOWN_FIELDS)})")
        return nodes


class OpcUaOptions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: opc.tcp://host:port/path
    endpoint: str = Field(pattern=r"^opc\.tcp://")
    #: Readings are emitted this often (gateway time), from the latest values received.
    poll_interval_s: float = Field(1.0, gt=0)
    #: Data-change subscriptions (else, or when the server refuses them, reads every poll).
    subscribe: bool = True
    publishing_interval_ms: float = Field(500.0, gt=0)
    #: One request's timeout; reconnects back off from min to max, doubling.
    timeout_s: float = Field(4.0, gt=0)
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)
    #: How long the source waits at start to check the node ids (a server that is down then
    #: is not an error: its values are comm_error until it answers).
    start_check_s: float = Field(5.0, ge=0)
    panels: list[OpcUaPanel] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> Self:
        ids = [p.compressor_id for p in self.panels]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"compressor id(s) configured twice: {twice}")
        seen: dict[str, str] = {}
        for panel in self.panels:
            for name, node in panel.nodes.items():
                if node in seen:
                    raise ValueError(
                        f"node {node} is both {seen[node]} and {panel.compressor_id}.{name}"
                    )
                seen[node] = f"{panel.compressor_id}.{name}"
        return self


def parse_options(options: dict[str, Any]) -> OpcUaOptions:
    try:
        return OpcUaOptions.model_validate(options)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(options)"
        message = first["msg"].removeprefix("Value error, ")
        raise ConfigError(f"source.options.{where}: {message}") from None
