"""Running a verified model bundle with ONNX Runtime.

A model may carry one baseline per compressor: its graph then has a second input,
`compressor_index` (int64, the row's position in the model metadata's
`altaviz.compressors` list), and may name the operating states it scores
(`altaviz.scored_states`). Rows of other compressors or states are not scored.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

import numpy as np
import onnxruntime as ort

from edge_agent.errors import ModelError
from shared.bundle import BundleManifest, VerifiedBundle
from shared.features import FEATURE_NAMES, FeatureSpec
from shared.model_graph import COMPRESSOR_INPUT, META_COMPRESSORS, META_SCORED_STATES

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FeatureRows:
    """Feature rows (all of FEATURE_NAMES) with the compressor and operating state of each."""

    features: np.ndarray
    compressors: list[str]
    states: list[str]

    def __len__(self) -> int:
        return len(self.compressors)


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
        #: Features go in as the graph declares them: double, or float (the default).
        self._input_dtype = (
            np.float64 if inputs[self.manifest.input_name].type == "tensor(double)" else np.float32
        )
        outputs = [o.name for o in self._session.get_outputs()]
        if self.manifest.score_output not in outputs:
            raise ModelError(f"{self.label}: model has no output {self.manifest.score_output!r}")
        meta = self._session.get_modelmeta().custom_metadata_map
        #: Compressor id -> baseline index, for a model with one baseline per compressor.
        self.compressor_index: dict[str, int] | None = None
        if COMPRESSOR_INPUT in inputs:
            try:
                names = json.loads(meta[META_COMPRESSORS])
            except (KeyError, ValueError):
                raise ModelError(f"{self.label}: {META_COMPRESSORS} metadata missing") from None
            self.compressor_index = {str(name): i for i, name in enumerate(names)}
        states = meta.get(META_SCORED_STATES)
        self.scored_states: frozenset[str] | None = (
            frozenset(json.loads(states)) if states else None
        )

    @property
    def label(self) -> str:
        return self.manifest.label

    @property
    def version(self) -> str:
        return self.manifest.version

    def select(self, features: np.ndarray) -> np.ndarray:
        """The model's input columns, in manifest order, from full feature rows."""
        return np.ascontiguousarray(features[:, self.columns], dtype=self._input_dtype)

    def scorable(self, rows: FeatureRows) -> np.ndarray:
        """Indices of rows this model scores: finite inputs, a known compressor, a scored state."""
        keep = np.isfinite(self.select(rows.features)).all(axis=1)
        if self.compressor_index is not None:
            keep &= np.array([c in self.compressor_index for c in rows.compressors], dtype=bool)
        if self.scored_states is not None:
            keep &= np.array([s in self.scored_states for s in rows.states], dtype=bool)
        return np.flatnonzero(keep)

    def score_rows(self, rows: FeatureRows) -> tuple[np.ndarray, np.ndarray]:
        """(row indices, scores) of the rows this model scores."""
        index = self.scorable(rows)
        compressors = [rows.compressors[i] for i in index.tolist()]
        return index, self.score(self.select(rows.features[index]), compressors)

    def score(self, inputs: np.ndarray, compressors: list[str] | None = None) -> np.ndarray:
        """Scores for rows of model inputs; raise ModelError if the model misbehaves."""
        if inputs.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        feeds = {self.manifest.input_name: inputs}
        if self.compressor_index is not None:
            if compressors is None or len(compressors) != inputs.shape[0]:
                raise ModelError(f"{self.label}: scores one baseline per compressor; ids needed")
            index = self.compressor_index
            feeds[COMPRESSOR_INPUT] = np.array([index[c] for c in compressors], dtype=np.int64)
        try:
            (scores,) = self._session.run([self.manifest.score_output], feeds)
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

    def sanity_check(self, rows: FeatureRows, *, max_anomalous_fraction: float) -> str | None:
        """Score recent feature rows; return why the model is unfit, or None."""
        try:
            _, scores = self.score_rows(rows)
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
