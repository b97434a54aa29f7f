"""The hub's settings: config/hub.yaml, overridden by ALTAVIZ_HUB_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from shared.batch import DEFAULT_MAX_BATCH_BYTES
from shared.mqtt import MqttSettings
from shared.settings import AltavizSettings, settings_config


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Payloads above this are quarantined (keep the broker's max packet size at or above it).
    max_batch_bytes: int = Field(DEFAULT_MAX_BATCH_BYTES, ge=1024)
    #: MQTT shared-subscription group so several ingest workers split the load; None = plain.
    shared_group: str | None = "altaviz-ingest"
    #: Unique per ingest worker (the broker keeps a persistent session under this id).
    client_id: str = "altaviz-hub-ingest"
    #: How long the broker keeps queueing for a disconnected worker (MQTT 5 session expiry).
    session_expiry_s: int = Field(300, ge=0)


class SparkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    master: str = "local[2]"
    #: Delta Lake jars fetched by `make jars` (Spark never resolves packages online).
    jars_dir: Path = Path(".cache/jars")
    shuffle_partitions: int = Field(4, ge=1)
    driver_memory: str = "2g"
    #: Extra Spark settings, e.g. object-store credentials on a cluster.
    conf: dict[str, str] = Field(default_factory=dict)


class PipelineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger_interval_s: float = Field(30.0, gt=0)
    max_files_per_trigger: int = Field(1000, ge=1)


class HubSettings(AltavizSettings):
    model_config = settings_config("hub")
    app_name: ClassVar[str] = "hub"
    default_config_path: ClassVar[Path] = Path("config/hub.yaml")

    development: bool = True
    log_level: str = "INFO"
    #: Local working directory: landing zone, quarantine.
    data_dir: Path = Path("var/hub")
    #: Root of the Delta tables and checkpoints: a path, or abfss:// / s3a:// on a cluster.
    lake_root: str = "var/hub/lake"
    #: The serving database (SQLAlchemy URL): a SQLite file by default, PostgreSQL in production.
    database_url: str = "sqlite:///var/hub/serving.db"
    mqtt: MqttSettings = Field(default_factory=MqttSettings)
    ingest: IngestSettings = Field(default_factory=IngestSettings)
    spark: SparkSettings = Field(default_factory=SparkSettings)
    pipeline: PipelineSettings = Field(default_factory=PipelineSettings)

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"
