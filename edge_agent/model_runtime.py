"""Running a verified model bundle with ONNX Runtime."""

from __future__ import annotations

import logging

import numpy as np
import onnxruntime as ort

from edge_agent.errors import ModelError
from shared.bundle import BundleManifest, VerifiedBundle
from shared.features import FEATURE_NAMES, FeatureSpec

log = logging.getLogger(__name__)


class OnnxModel:
    """One loaded model: its manifest, its ONNX session, its feature columns."""

    def __init__(self, bundle: VerifiedBundle) -> None:
        self.manifest: BundleManifest = bundle.manifest
        unknown = [f for f in self.manifest.features if f not in FEATURE_NAMES]
        if unknown:
            raise ModelError(f"{self.label}: unknown feature(s) {unknown}")
        self.columns = np.array([FEATURE_NAMES.index(f) for f in self.manifest.features])
        self.spec = FeatureSpec(
            window_s=self.manifest.window_s, min_samples=self.manifest.min_samples
        )
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1  # a gateway's cores belong to polling and the buffer too
        options.inter_op_num_threads = 1
        options.log_severity_level = 3
        try:
            self._session = ort.InferenceSession(
                bundle.files[self.manifest.entrypoint],
                sess_options=options,
                providers=["CPUExecutionProvider"],
            )
        except Exception as exc:  # ORT raises its own exception types for bad graphs
            raise ModelError(f"{self.label}: ONNX Runtime cannot load the model: {exc}") from None
        inputs = {i.name: i for i in self._session.get_inputs()}
        if self.manifest.input_name not in inputs:
            raise ModelError(f"{self.label}: model has no input {self.manifest.input_name!r}")
        outputs = [o.name for o in self._session.get_outputs()]
        if self.manifest.score_output not in outputs:
            raise ModelError(f"{self.label}: model has no output {self.manifest.score_output!r}")

    @property
    def label(self) -> str:
        return self.manifest.label

    @property
    def version(self) -> str:
        return self.manifest.version

    def select(self, features: np.ndarray) -> np.ndarray:
        """The model's input columns, in manifest order, from full feature rows."""
        return np.ascontiguousarray(features[:, self.columns], dtype=np.float32)

    def score(self, inputs: np.ndarray) -> np.ndarray:
        """Scores for rows of model inputs; raise ModelError if the model misbehaves."""
        if inputs.shape[0] == 0:
            return np.empty(0, dtype=np.float32)
        try:
            (scores,) = self._session.run(
                [self.manifest.score_output], {self.manifest.input_name: inputs}
            )
        except Exception as exc:
            raise ModelError(f"{self.label}: inference failed: {exc}") from None
        scores = np.asarray(scores, dtype=np.float64).reshape(-1)
        if scores.shape[0] != inputs.shape[0]:
            raise ModelError(
                f"{self.label}: {scores.shape[0]} score(s) for {inputs.shape[0]} row(s)"
            )
        if not np.isfinite(scores).all():
            raise ModelError(f"{self.label}: non-finite score(s)")
        return scores

    def anomalous(self, scores: np.ndarray) -> np.ndarray:
        t = self.manifest.thresholds
        return scores > t.raise_at if t.anomalous_when == "above" else scores < t.raise_at

    def normal(self, scores: np.ndarray) -> np.ndarray:
        t = self.manifest.thresholds
        return scores <= t.clear_at if t.anomalous_when == "above" else scores >= t.clear_at

    def sanity_check(self, features: np.ndarray, *, max_anomalous_fraction: float) -> str | None:
        """Score recent feature rows; return why the model is unfit, or None."""
        inputs = self.select(features)
        inputs = inputs[np.isfinite(inputs).all(axis=1)]
        try:
            scores = self.score(inputs)
        except ModelError as exc:
            return str(exc)
        if len(scores):
            fraction = float(self.anomalous(scores).mean())
            if fraction > max_anomalous_fraction:
                return (
                    f"{self.label} calls {fraction:.0%} of {len(scores)} recent readings "
                    f"anomalous (limit {max_anomalous_fraction:.0%})"
                )
        return None
