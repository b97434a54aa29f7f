"""Settings of the model life cycle (the `models:` section of config/hub.yaml)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, SecretStr


class ModelLifecycleSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: Artifact store: one directory per model version (bundle, manifest, evaluation).
    artifact_dir: Path = Path("var/hub/models")
    #: The hub's Ed25519 signing key (PEM): a secret file, or the PEM itself from the
    #: environment (ALTAVIZ_HUB_MODELS__SIGNING_KEY_PEM). In development mode, with
    #: neither set, a key is generated once at `dev_signing_key_file`.
    signing_key_file: Path | None = None
    signing_key_pem: SecretStr | None = None
    dev_signing_key_file: Path = Path("var/hub/dev-model-signing-key.pem")
    #: Where stations fetch bundles: `<bundle_base_url>/<model_id>/<version>/bundle.tar`
    #: (https:// in production; http:// from `altaviz-models serve-bundles`; file:// on site).
    bundle_base_url: str = "http://127.0.0.1:8765"
    bundle_server_host: str = "127.0.0.1"
    bundle_server_port: int = Field(8765, ge=0, le=65535)
    #: Stations that get a new version first; the rest of the fleet only after they report it.
    canary_stations: list[str] = Field(default_factory=list)
    canary_timeout_s: float = Field(1800.0, gt=0)
    fleet_timeout_s: float = Field(3600.0, gt=0)
    #: Scheduled retraining (`altaviz-models retrain --every-h`): the default interval.
    retrain_interval_h: float = Field(168.0, gt=0)
    #: Readings per second a station scores (turns the detector's persistence into readings).
    edge_reading_interval_s: float = Field(1.0, gt=0)
    #: A challenger must beat the champion's false alarms by no more than this many per
    #: compressor-month and detect at least as many held-out labelled events.
    max_false_alarm_increase: float = Field(0.0, ge=0)
