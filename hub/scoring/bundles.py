"""The registry's model bundles as scorers, each checked against the inputs the hub can give it.

- `AnomalyModel`: the very ONNX bundle the stations run (shared/bundle.py), scored with
  ONNX Runtime on the shared features (shared/features.py), with the edge's rules for
  which rows count (finite inputs, a compressor the model knows, a scored state).
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
import onnxruntime as ort

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
from shared.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureSpec
from shared.model_graph import COMPRESSOR_INPUT, META_COMPRESSORS, META_SCORED_STATES

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


class AnomalyModel:
    """One anomaly detector bundle in an ONNX Runtime session, checked against our features."""

    def __init__(self, manifest: BundleManifest, files: Mapping[str, bytes]) -> None:
        self.manifest = manifest
        label = manifest.label
        if manifest.feature_set_version != FEATURE_SET_VERSION:
            raise ModelRefused(
                label,
                f"feature set version {manifest.feature_set_version}, the hub computes "
                f"version {FEATURE_SET_VERSION}",
            )
        unknown = [f for f in manifest.features if f not in FEATURE_NAMES]
        if unknown:
            raise ModelRefused(label, f"unknown input feature(s) {unknown}")
        self._files = dict(_checked_files(manifest, files))
        data = self._files.get(manifest.entrypoint)
        if data is None:
            raise ModelRefused(label, f"bundle has no entrypoint {manifest.entrypoint!r}")
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                data, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own untyped exceptions
            raise ModelRefused(label, f"ONNX Runtime cannot load the model: {exc}") from None
        inputs = {i.name: i for i in self._session.get_inputs()}
        features_input = inputs.get(manifest.input_name)
        if features_input is None:
            raise ModelRefused(label, f"the graph has no input {manifest.input_name!r}")
        width = features_input.shape[-1] if features_input.shape else None
        if isinstance(width, int) and width != len(manifest.features):
            raise ModelRefused(
                label,
                f"the graph takes {width} input column(s), the manifest lists "
                f"{len(manifest.features)} feature(s)",
            )
        if manifest.score_output not in [o.name for o in self._session.get_outputs()]:
            raise ModelRefused(label, f"the graph has no output {manifest.score_output!r}")
        self._dtype = np.float64 if features_input.type == "tensor(double)" else np.float32
        self.columns = np.array([FEATURE_NAMES.index(f) for f in manifest.features])
        self.spec = FeatureSpec(window_s=manifest.window_s, min_samples=manifest.min_samples)
        meta = self._session.get_modelmeta().custom_metadata_map
        self.compressor_index: dict[str, int] | None = None
        if COMPRESSOR_INPUT in inputs:
            try:
                names = json.loads(meta[META_COMPRESSORS])
            except (KeyError, ValueError):
                raise ModelRefused(label, f"{META_COMPRESSORS} metadata missing") from None
            self.compressor_index = {str(name): i for i, name in enumerate(names)}
        states = meta.get(META_SCORED_STATES)
        self.scored_states = frozenset(json.loads(states)) if states else None

    @property
    def model_id(self) -> str:
        return self.manifest.model_id

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def thresholds(self) -> ScoreThresholds:
        return self.manifest.thresholds

    def score(self, features: np.ndarray, compressors: list[str], states: list[str]) -> np.ndarray:
        """Scores of full feature rows (FEATURE_NAMES order); NaN where the model does not score."""
        inputs = np.ascontiguousarray(features[:, self.columns], dtype=self._dtype)
        keep = np.isfinite(inputs).all(axis=1)
        if self.compressor_index is not None:
            keep &= np.array([c in self.compressor_index for c in compressors], dtype=bool)
        if self.scored_states is not None:
            keep &= np.array([s in self.scored_states for s in states], dtype=bool)
        rows = np.flatnonzero(keep)
        scores = np.full(len(features), np.nan)
        if len(rows) == 0:
            return scores
        feeds: dict[str, np.ndarray] = {self.manifest.input_name: inputs[rows]}
        if self.compressor_index is not None:
            index = self.compressor_index
            feeds[COMPRESSOR_INPUT] = np.array(
                [index[compressors[i]] for i in rows.tolist()], dtype=np.int64
            )
        (result,) = self._session.run([self.manifest.score_output], feeds)
        scores[rows] = np.asarray(result, dtype=np.float64).reshape(-1)
        return scores

    def anomalous(self, scores: np.ndarray) -> np.ndarray:
        t = self.thresholds
        with np.errstate(invalid="ignore"):
            return scores > t.raise_at if t.anomalous_when == "above" else scores < t.raise_at

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
