"""A trained compressor detector as a signed model bundle (shared/bundle.py) for the edge agent."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from models.anomaly import FleetAnomalyModel
from models.anomaly_onnx import FEATURES_INPUT, SCORE_OUTPUT, export_bytes
from shared.bundle import BundleManifest, ScoreThresholds, TrainingInfo, build_bundle

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ANOMALY_MODEL_ID = "compressor-anomaly"
ONNX_FILE = "anomaly.onnx"


def new_version(now: datetime | None = None) -> str:
    """A sortable version id: UTC date and time of training (YYYYMMDD.HHMMSS)."""
    return (now or datetime.now(UTC)).strftime("%Y%m%d.%H%M%S")


def manifest_fields(
    model: FleetAnomalyModel,
    *,
    version: str,
    reading_interval_s: float,
    metrics: dict[str, float] | None = None,
    model_id: str = ANOMALY_MODEL_ID,
) -> dict[str, Any]:
    """Everything `shared.bundle.build_bundle` needs besides the files and the key."""
    config = model.config
    return {
        "model_id": model_id,
        "version": version,
        "kind": "anomaly_detector",
        "entrypoint": ONNX_FILE,
        "input_name": FEATURES_INPUT,
        "score_output": SCORE_OUTPUT,
        "features": list(config.features),
        "window_s": config.window_s,
        "min_samples": config.min_samples,
        "thresholds": ScoreThresholds(
            anomalous_when="above",
            raise_at=1.0,
            clear_at=config.clear_at,
            raise_after=config.readings_for(config.persistence_s, reading_interval_s),
            clear_after=config.readings_for(config.clear_s, reading_interval_s),
        ),
        "training": TrainingInfo(
            data_from=model.data_from,
            data_to=model.data_to,
            rows=model.training_rows,
            stations=list(model.stations),
            compressors=model.compressors,
            scored_states=list(config.scored_states),
            reading_interval_s=reading_interval_s,
        ),
        "metrics": dict(metrics or {}),
    }


def build_anomaly_bundle(
    model: FleetAnomalyModel,
    *,
    version: str,
    signing_key: Ed25519PrivateKey,
    reading_interval_s: float,
    metrics: dict[str, float] | None = None,
    model_id: str = ANOMALY_MODEL_ID,
) -> tuple[BundleManifest, bytes, bytes]:
    """(manifest, signature, archive) of the detector, signed with the hub's key."""
    fields = manifest_fields(
        model,
        version=version,
        reading_interval_s=reading_interval_s,
        metrics=metrics,
        model_id=model_id,
    )
    return build_bundle({ONNX_FILE: export_bytes(model)}, signing_key=signing_key, **fields)
