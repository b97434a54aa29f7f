"""The hub's settings: config/hub.yaml, overridden by ALTAVIZ_HUB_* variables."""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from hub.models_lifecycle.settings import ModelLifecycleSettings
from hub.observability.settings import ObservabilitySettings
from hub.stations.settings import StationProvisioningSettings
from hub.workflows.settings import WorkflowSettings
from shared.batch import DEFAULT_MAX_BATCH_BYTES
from shared.errors import ConfigError
from shared.mqtt import MqttSettings
from shared.schema import SENSOR_FIELDS
from shared.settings import (
    PLACEHOLDER_SECRETS,
    AltavizSettings,
    refuse_placeholder_secret,
    settings_config,
)


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    #: Refuse batches for an org/station missing from the serving database's stations
    #: (fleet file, `altaviz-hub stations provision`); false only for trials and tests.
    known_stations_only: bool = True
    #: Bytes the quarantine may hold; past it a refusal keeps only its JSON record.
    quarantine_max_bytes: int = Field(1 << 30, ge=0)
    #: A refused payload above this keeps its first and last half of it, not all of it.
    quarantine_sample_bytes: int = Field(1 << 20, ge=1024)


class SparkSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    master: str = "local[2]"
    #: Delta Lake jars fetched by `make jars` (Spark never resolves packages online).
    jars_dir: Path = Path(".cache/jars")
    shuffle_partitions: int = Field(4, ge=1)
    #: A silver/gold micro-batch with fewer readings than this runs its shuffles and its
    #: Delta snapshots in one partition, and its independent steps side by side (a
    #: continuous run's batches: every extra task of a tiny stage costs more than it
    #: saves; docs/benchmarks.md). 0: always `shuffle_partitions`, one step at a time.
    small_batch_readings: int = Field(100_000, ge=0)
    driver_memory: str = "2g"
    #: Extra Spark settings, e.g. object-store credentials on a cluster.
    conf: dict[str, str] = Field(default_factory=dict)


class PipelineSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trigger_interval_s: float = Field(30.0, gt=0)
    #: Landing bytes per micro-batch (the file source's `maxBytesPerTrigger`; a landed
    #: reading is ~9 bytes, so 10 MB is ~1M readings): a backlog is worked off in
    #: micro-batches of bounded memory. `max_files_per_trigger`, when set, bounds by
    #: file count instead.
    max_bytes_per_trigger: int = Field(10 * 1024 * 1024, ge=1024)
    max_files_per_trigger: int | None = Field(None, ge=1)
    #: Most readings per bronze data file (Delta `maxRecordsPerFile`).
    bronze_rows_per_file: int = Field(100_000, ge=1)
    #: A reading that reaches the hub more than this after it was taken is kept in
    #: silver (flag `late`) but no longer changes gold: gold recomputation stays bounded.
    late_horizon_h: float = Field(168.0, gt=0)
    #: OPTIMIZE (compaction) + VACUUM every this many hours; 0 switches it off.
    maintenance_interval_h: float = Field(24.0, ge=0)
    #: VACUUM keeps files a table version needed within this window (time travel, slow readers).
    vacuum_retention_h: float = Field(168.0, ge=168.0)
    #: Stations and compressors seeded into the serving database at start (None: none).
    seed_fleet: Path | None = Path("config/fleet.yaml")
    #: Bring the serving database to the newest migration at start (embedded SQLite).
    auto_migrate: bool = True
    #: Minutes of raw readings kept per compressor in the serving database.
    serving_recent_window_min: int = Field(60, ge=0)


Range = tuple[float, float]


class QualitySettings(BaseModel):
    """Silver's quality rules. They flag; they never delete or null a value."""

    model_config = ConfigDict(extra="forbid")

    #: The polling cadence of a station's gateway (gap and clock rules measure against it).
    expected_interval_s: float = Field(1.0, gt=0)
    station_interval_s: dict[str, float] = Field(default_factory=dict)
    #: A reading more than this many expected intervals after the previous one follows a gap.
    gap_factor: float = Field(3.0, gt=1)
    #: An interval off the cadence by more than max(this, fraction x cadence) is clock skew.
    cadence_tolerance_s: float = Field(0.25, ge=0)
    cadence_tolerance_fraction: float = Field(0.01, ge=0, lt=1)
    #: A timestamp this far ahead of the hub's receipt is clock skew (the gateway runs fast).
    future_tolerance_s: float = Field(300.0, ge=0)
    #: A value identical for at least this long and this many readings is stuck...
    stuck_min_s: float = Field(1800.0, gt=0)
    stuck_min_readings: int = Field(10, ge=2)
    #: ...in these operating states (a stopped unit legitimately reads a constant).
    stuck_states: tuple[str, ...] = ("running",)
    #: How far a reading's flags may depend on its neighbours, in seconds; must cover stuck_min_s.
    context_s: int = Field(1800, ge=60)
    #: Largest credible change per second, per sensor, within one operating state.
    rate_limits_per_s: dict[str, float] = Field(
        default_factory=lambda: {
            "vibration_mms": 0.5,
            "discharge_temp_f": 2.0,
            "suction_pressure_psi": 5.0,
            "discharge_pressure_psi": 20.0,
            "horsepower_consumption": 50.0,
            "gas_flow_mcf": 500.0,
        }
    )
    #: What the instrument can physically read; outside it the value is a sensor fault.
    instrument_ranges: dict[str, Range] = Field(
        default_factory=lambda: {
            "vibration_mms": (0.0, 60.0),
            "discharge_temp_f": (-40.0, 600.0),
            "suction_pressure_psi": (-14.7, 3000.0),
            "discharge_pressure_psi": (-14.7, 5000.0),
            "horsepower_consumption": (0.0, 20000.0),
            "gas_flow_mcf": (0.0, 500000.0),
        }
    )
    #: The credible envelope per operating state ("*" = any state); outside it: flag `range`.
    envelopes: dict[str, dict[str, Range]] = Field(
        default_factory=lambda: {
            "running": {
                "vibration_mms": (0.2, 12.0),
                "discharge_temp_f": (100.0, 350.0),
                "suction_pressure_psi": (5.0, 1500.0),
                "discharge_pressure_psi": (50.0, 2500.0),
                "horsepower_consumption": (50.0, 10000.0),
                "gas_flow_mcf": (100.0, 200000.0),
            },
            "shutdown_depressurized": {
                "vibration_mms": (0.0, 1.0),
                "suction_pressure_psi": (-14.7, 100.0),
                "discharge_pressure_psi": (-14.7, 100.0),
                "horsepower_consumption": (0.0, 20.0),
                "gas_flow_mcf": (0.0, 100.0),
            },
        }
    )
    #: Per-compressor envelopes, overriding the state defaults sensor by sensor.
    compressor_envelopes: dict[str, dict[str, dict[str, Range]]] = Field(default_factory=dict)

    def interval_for(self, station_id: str) -> float:
        return self.station_interval_s.get(station_id, self.expected_interval_s)

    @model_validator(mode="after")
    def _context_covers_rules(self) -> QualitySettings:
        if self.context_s < self.stuck_min_s:
            raise ValueError("context_s must be at least stuck_min_s")
        return self


class AlertCondition(BaseModel):
    """One alert condition: a signal per compressor-minute, thresholds and hysteresis."""

    model_config = ConfigDict(extra="forbid")

    #: "equipment" (the machine) or "data_quality" (the instrumentation or the link).
    category: Literal["equipment", "data_quality"] = "equipment"
    #: A signal name from hub.lakehouse.conditions.SIGNALS.
    signal: str
    warning: float
    critical: float | None = None
    #: Hysteresis: an open episode closes only once the signal stays below this.
    clear: float
    #: Minutes the signal must stay at or above `warning` to open (or `critical` to escalate).
    open_after_min: int = Field(10, ge=1, le=720)
    #: Minutes the signal must stay below `clear` to close.
    close_after_min: int = Field(30, ge=1, le=1440)
    #: Operating states in which the condition is evaluated (empty: all).
    states: tuple[str, ...] = ("running",)

    @model_validator(mode="after")
    def _ordered(self) -> AlertCondition:
        if self.clear >= self.warning:
            raise ValueError("clear must be below warning (hysteresis)")
        if self.critical is not None and self.critical < self.warning:
            raise ValueError("critical must be at or above warning")
        return self


def _default_conditions() -> dict[str, AlertCondition]:
    sensor_faults = {
        f"sensor_fault_{sensor}": AlertCondition(
            category="data_quality",
            signal=f"sensor_fault_share_{sensor}",
            warning=0.5,
            clear=0.2,
            open_after_min=5,
            close_after_min=15,
            states=(),
        )
        for sensor in SENSOR_FIELDS
    }
    return {
        # Against the unit's own trip (fleet file): warning 35 °F and critical 20 °F below it.
        # Healthy units reach ~295 °F on July afternoons at a 350 °F trip; margins from the
        # prototype scenario (docs/lakehouse.md, "Calibration").
        "discharge_temp_high": AlertCondition(
            signal="discharge_temp_below_trip_f", warning=-35.0, critical=-20.0, clear=-45.0
        ),
        "vibration_high": AlertCondition(
            signal="vibration_trip_fraction", warning=0.6, critical=0.8, clear=0.5
        ),
        # The unit against its own running baseline (median of its previous days): healthy
        # units stay within 1.12x and +32 °F (diurnal swing and weather).
        "vibration_rising": AlertCondition(
            signal="vibration_baseline_ratio",
            warning=1.4,
            critical=2.0,
            clear=1.25,
            open_after_min=30,
            close_after_min=60,
        ),
        "discharge_temp_rising": AlertCondition(
            signal="discharge_temp_above_baseline_f",
            warning=45.0,
            critical=60.0,
            clear=35.0,
            open_after_min=30,
            close_after_min=60,
        ),
        "comm_loss": AlertCondition(
            category="data_quality",
            signal="comm_loss_share",
            warning=0.5,
            clear=0.2,
            open_after_min=5,
            close_after_min=15,
            states=(),
        ),
        "clock_skew": AlertCondition(
            category="data_quality",
            signal="clock_skew_share",
            warning=0.5,
            clear=0.2,
            open_after_min=5,
            close_after_min=15,
            states=(),
        ),
        **sensor_faults,
    }


class AlertSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    conditions: dict[str, AlertCondition] = Field(default_factory=_default_conditions)
    #: Days of a unit's running history its baseline is the median of.
    baseline_days: int = Field(7, ge=1, le=60)
    #: A day counts towards a baseline with at least this many running minutes.
    baseline_min_running_minutes: int = Field(360, ge=1, le=1440)
    #: Defaults for compressors the fleet file does not describe.
    default_discharge_temp_trip_f: float = 350.0
    default_vibration_trip_mms: float = 12.0
    default_stages: int = Field(2, ge=1, le=4)


class OidcProviderSettings(BaseModel):
    """One sign-in provider: `oidc` (Google, any OIDC provider, by discovery), `entra`
    (Microsoft Entra ID, single- or multi-tenant) or `github` (GitHub's OAuth 2)."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["oidc", "entra", "github"] = "oidc"
    display_name: str
    client_id: str = ""
    client_secret: SecretStr = SecretStr("")
    #: OIDC discovery document (Google, Microsoft, any OIDC provider).
    server_metadata_url: str | None = None
    scope: str = "openid email profile"
    #: Entra: only these tenant ids (the token's `tid`) may sign in; empty = any tenant.
    allowed_tenants: list[str] = Field(default_factory=list)
    #: GitHub (Enterprise Server, or a stand-in in tests): the OAuth and API addresses.
    authorize_url: str = "https://github.com/login/oauth/authorize"
    token_url: str = "https://github.com/login/oauth/access_token"
    api_base_url: str = "https://api.github.com/"

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
    #: Stripe price ids per plan and interval, e.g. {operations: {monthly: price_..,
    #: annual: price_..}}. A price that is not listed here is refused, never free.
    prices: dict[
        Literal["pilot", "operations", "enterprise"], dict[Literal["monthly", "annual"], str]
    ] = Field(default_factory=dict)
    #: A new organisation's Pilot trial, in days (billing configured only).
    trial_days: int = Field(30, ge=0, le=90)
    #: What the public pricing page shows per plan (e.g. "$450 per station per month");
    #: a plan without one shows "Talk to us".
    list_prices: dict[str, str] = Field(default_factory=dict)

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
    #: Signs the OAuth state cookie. The portal refuses to start with a placeholder
    #: outside development, and in development on an address other than loopback.
    secret_key: SecretStr = SecretStr("")
    session_hours: float = Field(8.0, gt=0, le=24)
    cookie_name: str = "altaviz_session"
    #: None = Secure cookies everywhere except development mode.
    cookie_secure: bool | None = None
    #: Failed sign-ins on one account before it is locked, and for how long.
    lockout_failures: int = Field(5, ge=1)
    lockout_minutes: float = Field(15.0, gt=0)
    #: Sign-in attempts per client address per minute.
    login_rate_per_minute: int = Field(20, ge=1)
    password_reset_minutes: float = Field(30.0, ge=5, le=60)
    #: Password-reset requests per client address and per address asked for, per hour.
    reset_rate_per_hour_ip: int = Field(10, ge=1)
    reset_rate_per_hour_account: int = Field(3, ge=1)
    #: New accounts (invitations, first provider sign-ins) per client address per hour.
    signup_rate_per_hour_ip: int = Field(10, ge=1)
    #: JSON API requests per token and per organisation (`limits` notation).
    api_rate_per_token: str = "300/minute"
    api_rate_per_org: str = "1200/minute"
    #: Where API request counts live: memory:// (one process) or a shared redis:// store.
    api_limit_storage: str = "memory://"

    @field_validator("api_rate_per_token", "api_rate_per_org")
    @classmethod
    def _rate(cls, value: str) -> str:
        from limits import parse

        parse(value)  # ValueError: e.g. "300/minute", "10/second"
        return value

    invitation_days: float = Field(7.0, gt=0)
    #: A compressor whose latest data is older than this shows as stale.
    stale_after_minutes: float = Field(15.0, gt=0)
    #: What ages and staleness of data are measured against: `wall` (the hub's clock) or
    #: `data` (the newest reading the org's stations have delivered: simulated or replayed time).
    clock: Literal["wall", "data"] = "wall"
    oidc: dict[str, OidcProviderSettings] = Field(default_factory=dict)
    smtp: SmtpSettings = Field(default_factory=SmtpSettings)
    stripe: StripeSettings = Field(default_factory=StripeSettings)


class HubSettings(AltavizSettings):
    model_config = settings_config("hub")
    app_name: ClassVar[str] = "hub"
    default_config_path: ClassVar[Path] = Path("config/hub.yaml")

    #: Development mode must be asked for: production (Secure cookies, HSTS, real secrets).
    development: bool = False
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
    quality: QualitySettings = Field(default_factory=QualitySettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    portal: PortalSettings = Field(default_factory=PortalSettings)
    models: ModelLifecycleSettings = Field(default_factory=ModelLifecycleSettings)
    workflows: WorkflowSettings = Field(default_factory=WorkflowSettings)
    observability: ObservabilitySettings = Field(default_factory=ObservabilitySettings)
    stations: StationProvisioningSettings = Field(default_factory=StationProvisioningSettings)

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Self:
        development = self.development
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

    def check_portal(self, *, host: str | None = None) -> None:
        """Refuse to serve the portal with a placeholder secret key, except in development
        mode on a loopback address (checked where the portal starts: other hub processes
        do not need the key)."""
        host = host or self.portal.host
        secret = self.portal.secret_key.get_secret_value()
        if self.development and secret.strip().lower() in PLACEHOLDER_SECRETS:
            if not is_loopback(host):
                raise ConfigError(
                    f"development mode with a placeholder portal.secret_key listens only on "
                    f"loopback, not {host}: set ALTAVIZ_HUB_PORTAL__SECRET_KEY"
                )
            return
        refuse_placeholder_secret("portal.secret_key", secret, development=False)

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
