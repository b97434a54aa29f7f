"""The hub's settings: config/hub.yaml, overridden by ALTAVIZ_HUB_* variables."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from shared.batch import DEFAULT_MAX_BATCH_BYTES
from shared.mqtt import MqttSettings
from shared.settings import AltavizSettings, refuse_placeholder_secret, settings_config


class IngestSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Payloads above this are quarantined (keep the broker's max packet size at or above it).
    max_batch_bytes: int = Field(DEFAULT_MAX_BATCH_BYTES, ge=1024)
    #: MQTT shared-subscription group so several ingest workers split the load; None = plain.
    shared_group: str | None = "altaviz-ingest"
    client_id: str = "altaviz-hub-ingest"


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


class OidcProviderSettings(BaseModel):
    """One sign-in provider. `kind: oidc` uses discovery; `kind: github` is GitHub's OAuth 2."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["oidc", "github"] = "oidc"
    display_name: str
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    #: OIDC discovery document (Google, Microsoft, any OIDC provider).
    server_metadata_url: str | None = None
    scope: str = "openid email profile"

    @property
    def enabled(self) -> bool:
        return bool(self.client_id)


class SmtpSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(25, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    starttls: bool = False
    sender: str = "Altaviz <no-reply@altaviz.local>"
    timeout_s: float = Field(10.0, gt=0)


class StripeSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Empty = billing disabled. Tests point `api_base` at localstripe, never the real API.
    api_key: SecretStr = SecretStr("")
    webhook_secret: SecretStr = SecretStr("")
    api_base: str | None = None
    #: Stripe price id per paid plan.
    prices: dict[str, str] = Field(default_factory=dict)

    @property
    def enabled(self) -> bool:
        return bool(self.api_key.get_secret_value())


class PortalSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    #: Requests handled at once per process; more wait their turn. Each holds one
    #: database connection for its whole transaction, so the pool and the worker threads
    #: are sized from this and can never run out under load.
    max_concurrent_requests: int = Field(16, ge=1, le=500)
    #: Public address of the portal (OIDC redirect URIs, links in e-mails).
    base_url: str = "http://127.0.0.1:8000"
    #: Signs the OAuth state cookie; refused when a placeholder outside development.
    secret_key: SecretStr = SecretStr("dev")
    session_hours: float = Field(8.0, gt=0, le=24)
    cookie_name: str = "altaviz_session"
    #: None = Secure cookies everywhere except development mode.
    cookie_secure: bool | None = None
    #: Failed sign-ins on one account before it is locked, and for how long.
    lockout_failures: int = Field(5, ge=1)
    lockout_minutes: float = Field(15.0, gt=0)
    #: Sign-in attempts per client address per minute.
    login_rate_per_minute: int = Field(20, ge=1)
    password_reset_minutes: float = Field(30.0, gt=0)
    invitation_days: float = Field(7.0, gt=0)
    #: A compressor whose latest data is older than this shows as stale.
    stale_after_minutes: float = Field(15.0, gt=0)
    oidc: dict[str, OidcProviderSettings] = Field(default_factory=dict)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    stripe: StripeSettings = Field(default_factory=StripeSettings)


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
    portal: PortalSettings = Field(default_factory=PortalSettings)

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Self:
        development = self.development
        refuse_placeholder_secret(
            "portal.secret_key", self.portal.secret_key.get_secret_value(), development=development
        )
        for name, provider in self.portal.oidc.items():
            if provider.enabled:
                refuse_placeholder_secret(
                    f"portal.oidc.{name}.client_secret",
                    provider.client_secret.get_secret_value(),
                    development=development,
                )
        if self.portal.stripe.enabled:
            refuse_placeholder_secret(
                "portal.stripe.webhook_secret",
                self.portal.stripe.webhook_secret.get_secret_value(),
                development=development,
            )
        return self

    @property
    def cookie_secure(self) -> bool:
        secure = self.portal.cookie_secure
        return (not self.development) if secure is None else secure

    @property
    def landing_dir(self) -> Path:
        return self.data_dir / "landing"

    @property
    def quarantine_dir(self) -> Path:
        return self.data_dir / "quarantine"
