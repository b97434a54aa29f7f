"""Running a verified model bundle with ONNX Runtime on the station's feature rows.

Loading and the input checks are `shared.bundle_model.BundleModel`'s (the hub loads
bundles the same way); this adds the edge's rules: scores must be finite, one per
row, and a model that misbehaves raises ModelError so the agent rolls it back.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from edge_agent.errors import ModelError
from shared.bundle import VerifiedBundle
from shared.bundle_model import BundleModel, BundleModelError


@dataclass(frozen=True)
class FeatureRows:
    """Feature rows (all of FEATURE_NAMES) with the compressor and operating state of each."""

    features: np.ndarray
    compressors: list[str]
    states: list[str]

    def __len__(self) -> int:
        return len(self.compressors)


class OnnxModel(BundleModel):
    """One loaded model: its manifest, its ONNX session, its feature columns."""

    def __init__(self, bundle: VerifiedBundle) -> None:
        try:
            super().__init__(bundle.manifest, bundle.files)
        except BundleModelError as exc:
            raise ModelError(str(exc)) from None

    def scorable(self, rows: FeatureRows) -> np.ndarray:
        """Indices of rows this model scores: finite inputs, a known compressor, a scored state."""
        return self.usable(self.select(rows.features), rows.compressors, rows.states)

    def score_rows(self, rows: FeatureRows) -> tuple[np.ndarray, np.ndarray]:
        """(row indices, scores) of the rows this model scores."""
        index = self.scorable(rows)
        compressors = [rows.compressors[i] for i in index.tolist()]
        return index, self.score(self.select(rows.features[index]), compressors)

    def score(self, inputs: np.ndarray, compressors: list[str] | None = None) -> np.ndarray:
        """Scores for rows of model inputs; raise ModelError if the model misbehaves."""
        if inputs.shape[0] == 0:
            return np.empty(0, dtype=np.float64)
        try:
            scores = self.run(inputs, compressors)
        except BundleModelError as exc:
            raise ModelError(str(exc)) from None
        except Exception as exc:
            raise ModelError(f"{self.label}: inference failed: {exc}") from None
        if scores.shape[0] != inputs.shape[0]:
            raise ModelError(
                f"{self.label}: {scores.shape[0]} score(s) for {inputs.shape[0]} row(s)"
            )
        if not np.isfinite(scores).all():
            raise ModelError(f"{self.label}: non-finite score(s)")
        return scores

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
