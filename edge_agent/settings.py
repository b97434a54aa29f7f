"""The edge agent's settings: config/edge.yaml, overridden by ALTAVIZ_EDGE_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.ids import OrgId, StationId
from shared.mqtt import MqttSettings
from shared.settings import AltavizSettings, settings_config


class SourceSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A plugin name from the `altaviz.sources` entry points: `simulated`, `modbus`.
    kind: str = "simulated"
    options: dict[str, Any] = Field(default_factory=dict)


class BufferSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    path: Path = Path("var/edge/buffer.duckdb")
    #: Acknowledged readings are kept this long for local queries, then deleted.
    acked_retention_hours: float = Field(72.0, ge=0)


class UplinkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A batch closes when it reaches this many readings...
    batch_max_rows: int = Field(10_000, ge=1, le=1_000_000)
    #: ...or when its oldest reading has waited this long.
    batch_max_age_s: float = Field(5.0, gt=0)
    #: Encoded batches above this are split (keep below the broker's max packet size).
    batch_max_bytes: int = Field(4 * 1024 * 1024, ge=4096)
    #: Batches published and not yet acknowledged, at most.
    inflight_batches: int = Field(16, ge=1, le=1000)
    #: A batch with no ack after this long is sent again.
    ack_timeout_s: float = Field(30.0, gt=0)
    #: Seconds between retained status messages.
    status_interval_s: float = Field(10.0, gt=0)
    #: On a clean stop, send what is buffered and wait this long for acks (0 = stop at once).
    drain_on_stop_s: float = Field(5.0, ge=0)


class EdgeSettings(AltavizSettings):
    model_config = settings_config("edge")
    app_name: ClassVar[str] = "edge"
    default_config_path: ClassVar[Path] = Path("config/edge.yaml")

    org_id: OrgId = "demo-org"
    station_id: StationId = "STATION-1"
    log_level: str = "INFO"
    source: SourceSettings = Field(default_factory=SourceSettings)
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    buffer: BufferSettings = Field(default_factory=BufferSettings)
    uplink: UplinkSettings = Field(default_factory=UplinkSettings)

    @property
    def status_file(self) -> Path:
        return self.buffer.path.with_suffix(".status.json")
