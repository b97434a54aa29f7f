"""The registry's model bundles as scorers, each checked against the inputs the hub can give it.

- `AnomalyModel`: the very ONNX bundle the stations run, loaded and checked as the edge
  loads it (shared/bundle_model.py) and scored on the shared features (shared/features.py)
  with the edge's rules for which rows count (finite inputs, a compressor the model
  knows, a scored state).
- `RulEstimator`: models/rul.py's quantile models, in a bundle of kind `rul_estimator`.
- `DriftForecaster`: models/drift.py's forecaster settings and limits, kind `drift_forecaster`.

A bundle whose input schema does not match (feature set version, unknown features, the
ONNX graph's input width, a different RUL feature list) raises `ModelRefused`.
"""

from __future__ import annotations

import json
import pickle
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from hub.scoring.errors import ModelRefused
from models.drift import DriftConfig, DriftLimits
from models.rul import RulModel, feature_columns
from shared.bundle import (
    BundleError,
    BundleManifest,
    ScoreThresholds,
    TrainingInfo,
    build_bundle,
    verify_files,
)
from shared.bundle_model import BundleModel, BundleModelError

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

RUL_MODEL_ID = "compressor-rul"
DRIFT_MODEL_ID = "discharge-temp-drift"
RUL_KIND = "rul_estimator"
DRIFT_KIND = "drift_forecaster"
RUL_FILE = "rul.pkl"
DRIFT_FILE = "drift.json"
#: What the drift forecaster reads (models/drift.py UnitHistory).
DRIFT_INPUTS = ["discharge_temp_f_mean_peer", "discharge_temp_f_peak"]


def _checked_files(manifest: BundleManifest, files: Mapping[str, bytes]) -> Mapping[str, bytes]:
    try:
        verify_files(manifest, files)
    except BundleError as exc:
        raise ModelRefused(
            manifest.label, f"bundle files do not match the manifest: {exc}"
        ) from None
    return files


class AnomalyModel(BundleModel):
    """One anomaly detector bundle, checked against our features, scoring full feature rows."""

    def __init__(self, manifest: BundleManifest, files: Mapping[str, bytes]) -> None:
        self._files = dict(_checked_files(manifest, files))
        try:
            super().__init__(manifest, self._files)
        except BundleModelError as exc:
            raise ModelRefused(exc.label, exc.problem) from None

    def score(self, features: np.ndarray, compressors: list[str], states: list[str]) -> np.ndarray:
        """Scores of full feature rows (FEATURE_NAMES order); NaN where the model does not score."""
        inputs = self.select(features)
        rows = self.usable(inputs, compressors, states)
        scores = np.full(len(features), np.nan)
        if len(rows) == 0:
            return scores
        scores[rows] = self.run(inputs[rows], [compressors[i] for i in rows.tolist()])
        return scores

    def __getstate__(self) -> dict[str, Any]:
        # Spark ships the model to its Python workers: send the bundle, not the session.
        return {"manifest": self.manifest, "files": self._files}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["manifest"], state["files"])  # type: ignore[misc]


@dataclass(frozen=True)
class RulEstimator:
    model_id: str
    version: str
    model: RulModel

    @classmethod
    def from_bundle(cls, manifest: BundleManifest, files: Mapping[str, bytes]) -> RulEstimator:
        label = manifest.label
        if manifest.kind != RUL_KIND:
            raise ModelRefused(label, f"kind {manifest.kind!r}, expected {RUL_KIND!r}")
        expected = feature_columns()
        if list(manifest.features) != expected:
            missing = sorted(set(expected) - set(manifest.features))
            extra = sorted(set(manifest.features) - set(expected))
            raise ModelRefused(
                label, f"input features differ from the hub's (missing {missing}, extra {extra})"
            )
        data = _checked_files(manifest, files).get(RUL_FILE)
        if data is None:
            raise ModelRefused(label, f"bundle has no {RUL_FILE}")
        # The file's sha256 is in the signed manifest, checked above: it is the hub's own.
        model = pickle.loads(data)
        if not isinstance(model, RulModel):
            raise ModelRefused(label, f"{RUL_FILE} holds no RUL model")
        return cls(manifest.model_id, manifest.version, model)


@dataclass(frozen=True)
class DriftForecaster:
    model_id: str
    version: str
    config: DriftConfig
    limits: DriftLimits

    @classmethod
    def from_bundle(cls, manifest: BundleManifest, files: Mapping[str, bytes]) -> DriftForecaster:
        label = manifest.label
        if manifest.kind != DRIFT_KIND:
            raise ModelRefused(label, f"kind {manifest.kind!r}, expected {DRIFT_KIND!r}")
        if list(manifest.features) != DRIFT_INPUTS:
            raise ModelRefused(label, f"inputs {manifest.features}, the hub gives {DRIFT_INPUTS}")
        data = _checked_files(manifest, files).get(DRIFT_FILE)
        if data is None:
            raise ModelRefused(label, f"bundle has no {DRIFT_FILE}")
        try:
            document = json.loads(data)
            config = DriftConfig(**document["config"])
            limits = DriftLimits(**document["limits"])
        except (ValueError, KeyError, TypeError) as exc:
            raise ModelRefused(label, f"{DRIFT_FILE} is not a forecaster setting: {exc}") from None
        return cls(manifest.model_id, manifest.version, config, limits)


_NOT_A_SCORE = ScoreThresholds(anomalous_when="above", raise_at=1.0, clear_at=1.0)


def build_rul_bundle(
    model: RulModel, *, version: str, signing_key: Ed25519PrivateKey, training: TrainingInfo
) -> tuple[BundleManifest, bytes, bytes]:
    """(manifest, signature, archive) of a RUL estimator for the registry (never sent to stations)."""
    return build_bundle(
        {RUL_FILE: pickle.dumps(model)},
        signing_key=signing_key,
        model_id=RUL_MODEL_ID,
        version=version,
        kind=RUL_KIND,
        entrypoint=RUL_FILE,
        features=feature_columns(),
        thresholds=_NOT_A_SCORE,
        training=training,
        metrics={"training_rows": float(model.training_rows)},
    )


def build_drift_bundle(
    config: DriftConfig,
    limits: DriftLimits,
    *,
    version: str,
    signing_key: Ed25519PrivateKey,
    training: TrainingInfo,
) -> tuple[BundleManifest, bytes, bytes]:
    document = {"config": asdict(config), "limits": asdict(limits)}
    return build_bundle(
        {DRIFT_FILE: json.dumps(document, sort_keys=True).encode()},
        signing_key=signing_key,
        model_id=DRIFT_MODEL_ID,
        version=version,
        kind=DRIFT_KIND,
        entrypoint=DRIFT_FILE,
        features=DRIFT_INPUTS,
        thresholds=_NOT_A_SCORE,
        training=training,
    )
