"""An anomaly detector bundle's model in ONNX Runtime, checked against the shared features.

The edge agent (`edge_agent.model_runtime`) and the hub's scoring (`hub.scoring.bundles`)
both load a bundle through `BundleModel`, so they accept and refuse the same bundles:
a feature set version other than ours, a feature we do not compute, a missing
entrypoint, a graph ONNX Runtime cannot load, a graph whose input, input width or
score output differs from the manifest raise `BundleModelError`.

A model may carry one baseline per compressor: its graph then has a second input,
`compressor_index` (int64, the row's position in the model metadata's
`altaviz.compressors` list), and may name the operating states it scores
(`altaviz.scored_states`). Rows of other compressors or states are not scored.

Unlike the rest of `shared`, this module needs onnxruntime; the edge and hub extras
both ship it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import onnxruntime as ort

from shared.bundle import BundleError, BundleManifest, ScoreThresholds
from shared.features import FEATURE_NAMES, FEATURE_SET_VERSION, FeatureSpec
from shared.model_graph import COMPRESSOR_INPUT, META_COMPRESSORS, META_SCORED_STATES


class BundleModelError(BundleError):
    """The bundle's model cannot run on the features computed here; `problem` says why."""

    reason = "bad_model"

    def __init__(self, label: str, problem: str) -> None:
        super().__init__(f"{label}: {problem}")
        self.label = label
        self.problem = problem


def check_features(manifest: BundleManifest) -> None:
    """Raise BundleModelError unless the manifest's inputs are features we compute."""
    if manifest.feature_set_version != FEATURE_SET_VERSION:
        raise BundleModelError(
            manifest.label,
            f"feature set version {manifest.feature_set_version}, the features computed here "
            f"are version {FEATURE_SET_VERSION}",
        )
    unknown = [f for f in manifest.features if f not in FEATURE_NAMES]
    if unknown:
        raise BundleModelError(manifest.label, f"unknown input feature(s) {unknown}")


def _session(label: str, model_bytes: bytes) -> ort.InferenceSession:
    options = ort.SessionOptions()
    options.intra_op_num_threads = 1  # a gateway's cores belong to polling and the buffer too
    options.inter_op_num_threads = 1
    options.log_severity_level = 3
    try:
        return ort.InferenceSession(
            model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
        )
    except Exception as exc:  # ORT raises its own exception types for bad graphs
        raise BundleModelError(label, f"ONNX Runtime cannot load the model: {exc}") from None


def _features_input(manifest: BundleManifest, inputs: Mapping[str, Any]) -> Any:
    """The graph's features input, checked against the manifest's name and feature count."""
    features_input = inputs.get(manifest.input_name)
    if features_input is None:
        raise BundleModelError(manifest.label, f"the graph has no input {manifest.input_name!r}")
    width = features_input.shape[-1] if features_input.shape else None
    if isinstance(width, int) and width != len(manifest.features):
        raise BundleModelError(
            manifest.label,
            f"the graph takes {width} input column(s), the manifest lists "
            f"{len(manifest.features)} feature(s)",
        )
    return features_input


class BundleModel:
    """One bundle's model: its manifest, its ONNX Runtime session, its feature columns."""

    def __init__(self, manifest: BundleManifest, files: Mapping[str, bytes]) -> None:
        """Load `files` (already checked against the manifest) or raise BundleModelError."""
        self.manifest = manifest
        check_features(manifest)
        model_bytes = files.get(manifest.entrypoint)
        if model_bytes is None:
            raise BundleModelError(self.label, f"bundle has no entrypoint {manifest.entrypoint!r}")
        self._session = _session(self.label, model_bytes)
        inputs = {i.name: i for i in self._session.get_inputs()}
        features_input = _features_input(manifest, inputs)
        if manifest.score_output not in [o.name for o in self._session.get_outputs()]:
            raise BundleModelError(self.label, f"the graph has no output {manifest.score_output!r}")
        #: Features go in as the graph declares them: double, or float (the default).
        self._input_dtype = np.float64 if features_input.type == "tensor(double)" else np.float32
        self.columns = np.array([FEATURE_NAMES.index(f) for f in manifest.features])
        self.spec = FeatureSpec(window_s=manifest.window_s, min_samples=manifest.min_samples)
        meta = self._session.get_modelmeta().custom_metadata_map
        #: Compressor id -> baseline index, for a model with one baseline per compressor.
        self.compressor_index: dict[str, int] | None = None
        if COMPRESSOR_INPUT in inputs:
            try:
                names = json.loads(meta[META_COMPRESSORS])
            except (KeyError, ValueError):
                raise BundleModelError(self.label, f"{META_COMPRESSORS} metadata missing") from None
            self.compressor_index = {str(name): i for i, name in enumerate(names)}
        states = meta.get(META_SCORED_STATES)
        self.scored_states: frozenset[str] | None = (
            frozenset(json.loads(states)) if states else None
        )

    @property
    def label(self) -> str:
        return self.manifest.label

    @property
    def model_id(self) -> str:
        return self.manifest.model_id

    @property
    def version(self) -> str:
        return self.manifest.version

    @property
    def thresholds(self) -> ScoreThresholds:
        return self.manifest.thresholds

    def select(self, features: np.ndarray) -> np.ndarray:
        """The model's input columns, in manifest order, from full feature rows."""
        return np.ascontiguousarray(features[:, self.columns], dtype=self._input_dtype)

    def usable(
        self, inputs: np.ndarray, compressors: Sequence[str], states: Sequence[str]
    ) -> np.ndarray:
        """Indices of input rows this model scores: finite, a known compressor, a scored state."""
        keep = np.isfinite(inputs).all(axis=1)
        if self.compressor_index is not None:
            keep &= np.array([c in self.compressor_index for c in compressors], dtype=bool)
        if self.scored_states is not None:
            keep &= np.array([s in self.scored_states for s in states], dtype=bool)
        return np.flatnonzero(keep)

    def run(self, inputs: np.ndarray, compressors: Sequence[str] | None = None) -> np.ndarray:
        """Raw scores (float64, one per row) of model inputs; ONNX Runtime's errors pass through."""
        feeds = {self.manifest.input_name: inputs}
        if self.compressor_index is not None:
            if compressors is None or len(compressors) != inputs.shape[0]:
                raise BundleModelError(self.label, "scores one baseline per compressor; ids needed")
            index = self.compressor_index
            feeds[COMPRESSOR_INPUT] = np.array([index[c] for c in compressors], dtype=np.int64)
        (scores,) = self._session.run([self.manifest.score_output], feeds)
        return np.asarray(scores, dtype=np.float64).reshape(-1)

    def anomalous(self, scores: np.ndarray) -> np.ndarray:
        t = self.thresholds
        with np.errstate(invalid="ignore"):  # the hub's scores are NaN where not scored
            return scores > t.raise_at if t.anomalous_when == "above" else scores < t.raise_at

    def normal(self, scores: np.ndarray) -> np.ndarray:
        t = self.thresholds
        with np.errstate(invalid="ignore"):
            return scores <= t.clear_at if t.anomalous_when == "above" else scores >= t.clear_at
