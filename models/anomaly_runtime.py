"""Score feature rows with an exported compressor detector in ONNX Runtime (numpy + ORT only).

The hub and the evaluation use this to score exactly what a station would: the
same graph, the same float64 inputs, the same compressor lookup.
"""

from __future__ import annotations

import json

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from models.anomaly_onnx import FEATURES_INPUT, SCORE_OUTPUT
from models.errors import ModelExportError
from shared.model_graph import COMPRESSOR_INPUT, META_COMPRESSORS, META_SCORED_STATES


class FleetOnnxScorer:
    """One exported detector in an ONNX Runtime session."""

    def __init__(self, model_bytes: bytes, *, batch_rows: int = 65536) -> None:
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        try:
            self._session = ort.InferenceSession(
                model_bytes, sess_options=options, providers=["CPUExecutionProvider"]
            )
        except Exception as exc:  # ORT raises its own untyped exceptions
            raise ModelExportError(f"ONNX Runtime refused the model: {exc}") from exc
        meta = self._session.get_modelmeta().custom_metadata_map
        self.compressors: list[str] = json.loads(meta[META_COMPRESSORS])
        self.scored_states: list[str] = json.loads(meta.get(META_SCORED_STATES, "[]"))
        self._index = {c: i for i, c in enumerate(self.compressors)}
        self._batch_rows = batch_rows

    def score(
        self,
        inputs: NDArray[np.floating],
        compressors: NDArray[np.str_] | list[str],
        states: NDArray[np.str_] | list[str] | None = None,
    ) -> NDArray[np.float64]:
        """Scores of finite rows of known compressors in a scored state; NaN for every other row."""
        inputs = np.asarray(inputs, dtype=np.float64)
        names, inverse = np.unique(np.asarray(compressors, dtype=str), return_inverse=True)
        lookup = np.array([self._index.get(str(n), -1) for n in names], dtype=np.int64)
        index = lookup[inverse] if len(names) else np.empty(0, dtype=np.int64)
        usable = (index >= 0) & np.isfinite(inputs).all(axis=1)
        if states is not None and self.scored_states:
            usable &= np.isin(np.asarray(states, dtype=str), self.scored_states)
        rows = np.flatnonzero(usable)
        scores = np.full(len(inputs), np.nan)
        for start in range(0, len(rows), self._batch_rows):
            part = rows[start : start + self._batch_rows]
            (result,) = self._session.run(
                [SCORE_OUTPUT], {FEATURES_INPUT: inputs[part], COMPRESSOR_INPUT: index[part]}
            )
            scores[part] = result
        return scores
