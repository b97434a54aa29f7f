"""The edge agent's settings: config/edge.yaml, overridden by ALTAVIZ_EDGE_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from edge_agent.annunciation import AnnunciationSettings
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
    #: Hard cap on the buffer's disk use. Past it, acknowledged readings go first, then
    #: the OLDEST UNACKNOWLEDGED ones — counted, logged, in status and metrics, sent to the hub.
    max_bytes: int = Field(8 * 1024**3, ge=1024 * 1024)
    #: How often the cap is checked (it may be exceeded by what arrives in between).
    cap_check_interval_s: float = Field(5.0, gt=0)
    #: DuckDB's memory limit (it spills to disk past it) and worker threads: one for
    #: live work (less CPU per query), more while a backlog drains (faster batch reads).
    memory_limit_mb: int = Field(256, ge=32)
    threads: int = Field(1, ge=1, le=64)
    drain_threads: int = Field(2, ge=1, le=64)
    #: While the buffer cannot be written (disk full, read-only), new readings are held in
    #: memory up to this many, then REFUSED (counted and reported); nothing buffered is lost.
    hold_readings: int = Field(100_000, ge=0)


class UplinkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A batch closes when it reaches this many readings...
    batch_max_rows: int = Field(10_000, ge=1, le=1_000_000)
    #: ...or when its oldest reading has waited this long.
    batch_max_age_s: float = Field(5.0, gt=0)
    #: Encoded batches above this are split (keep below the broker's max packet size).
    batch_max_bytes: int = Field(4 * 1024 * 1024, ge=4096)
    #: Batches published and not yet acknowledged, at most (backlog lane).
    inflight_batches: int = Field(4, ge=1, le=1000)
    #: A backlog (readings stored while the link was down) is cut into batches this large:
    #: fewer, bigger messages drain faster and compress better.
    backlog_batch_max_rows: int = Field(50_000, ge=1, le=1_000_000)
    #: zstd level of batch payloads (higher: fewer bytes on a metered link, more CPU).
    zstd_level: int = Field(9, ge=1, le=22)
    #: In-flight slots kept for live batches, so a draining backlog never starves them.
    live_inflight_batches: int = Field(2, ge=1, le=100)
    #: A batch with no ack after this long is sent again.
    ack_timeout_s: float = Field(30.0, gt=0)
    #: Seconds between retained status messages.
    status_interval_s: float = Field(10.0, gt=0)
    #: On a clean stop, send what is buffered and wait this long for acks (0 = stop at once).
    drain_on_stop_s: float = Field(5.0, ge=0)


class ScoringSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: Threshold rules; null means none (comm loss and the model still alarm).
    thresholds_file: Path | None = Path("config/thresholds.yaml")


class ModelSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Verified bundles (current and previous) and the update state live here.
    dir: Path = Path("var/edge/models")
    #: The pinned Ed25519 public key (PEM) bundles must be signed with; null = no model updates.
    public_key_file: Path | None = None
    #: CA bundle for https:// bundle URLs (the system store when null).
    ca_file: Path | None = None
    #: Plain http:// bundle URLs (only for development and tests).
    allow_http: bool = False
    fetch_timeout_s: float = Field(60.0, gt=0)
    #: Readings a candidate scores beside the running model before it is promoted.
    shadow_readings: int = Field(300, ge=0)
    #: A candidate calling more than this share of recent readings anomalous is refused.
    max_anomalous_fraction: float = Field(0.5, ge=0, le=1)


class HttpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: /health and /metrics (Prometheus text format) for the technician's tools.
    enabled: bool = True
    host: str = "127.0.0.1"
    port: int = Field(9108, ge=0, le=65535)


class RemoteConfigSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    #: The pinned hub key (PEM); null = the model key (model.public_key_file).
    public_key_file: Path | None = None
    #: Current and previous configuration, last report (null: `config/` beside the buffer file).
    dir: Path | None = None
    #: After a change, every panel that answered before must answer within this, or it rolls back.
    verify_s: float = Field(30.0, gt=0)


class ClockSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: The agent's clock this far from the hub's or a panel's is flagged (status, /health).
    max_skew_s: float = Field(5.0, gt=0)


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
    scoring: ScoringSettings = Field(default_factory=ScoringSettings)
    model: ModelSettings = Field(default_factory=ModelSettings)
    http: HttpSettings = Field(default_factory=HttpSettings)
    #: On-site horn / beacon / PLC alarm bit and the acknowledge button (edge_agent.annunciation).
    annunciation: AnnunciationSettings = Field(default_factory=AnnunciationSettings)
    #: Signed configuration pushed by the hub (edge_agent.remote_config).
    remote_config: RemoteConfigSettings = Field(default_factory=RemoteConfigSettings)
    clock: ClockSettings = Field(default_factory=ClockSettings)

    @property
    def status_file(self) -> Path:
        return self.buffer.path.with_suffix(".status.json")

    @property
    def remote_config_dir(self) -> Path:
        return self.remote_config.dir or self.buffer.path.parent / "config"
