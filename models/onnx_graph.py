"""Build the ONNX graph of a `FittedDetector` from plain ONNX operators (no skl2onnx needed)."""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from models.detector import FittedDetector
from models.errors import ModelExportError
from models.runtime import DEVIATION_OUTPUT, INPUT_NAME, SCORE_OUTPUT

OPSET = 17


def _band_matrix(window_rows: int, mean_window: int, smooth_window: int) -> np.ndarray:
    """[W, S] matrix whose column s averages window rows s .. s + mean_window - 1."""
    band = np.zeros((window_rows, smooth_window))
    for position in range(smooth_window):
        band[position : position + mean_window, position] = 1.0 / mean_window
    return band


def _initializers(detector: FittedDetector) -> list[TensorProto]:
    cfg = detector.config
    arrays = {
        "center": detector.center,
        "scale": detector.scale,
        "band": _band_matrix(cfg.window_rows, cfg.mean_window, cfg.smooth_window),
        "feature_mean": detector.feature_mean,
        "whitening": detector.whitening,
        "feature_axis": np.array([2], dtype=np.int64),
        "last_position": np.array(cfg.smooth_window - 1, dtype=np.int64),
    }
    # np.asarray keeps the 0-d index 0-d (ascontiguousarray would make it 1-d).
    return [
        numpy_helper.from_array(
            np.asarray(value, dtype=np.int64 if value.dtype == np.int64 else np.float64), name
        )
        for name, value in arrays.items()
    ]


def _nodes() -> list[onnx.NodeProto]:
    node = helper.make_node
    return [
        node("Sub", [INPUT_NAME, "center"], ["centered"]),
        node("Div", ["centered", "scale"], ["standardized"]),  # [N, W, F]
        node("Transpose", ["standardized"], ["by_column"], perm=[0, 2, 1]),  # [N, F, W]
        node("MatMul", ["by_column", "band"], ["means_by_column"]),  # [N, F, S]
        node("Transpose", ["means_by_column"], ["rolling_means"], perm=[0, 2, 1]),  # [N, S, F]
        node("Sub", ["rolling_means", "feature_mean"], ["deviation"]),
        node("MatMul", ["deviation", "whitening"], ["whitened"]),
        node("Mul", ["whitened", "whitened"], ["whitened_sq"]),
        node("ReduceSum", ["whitened_sq", "feature_axis"], ["distance"], keepdims=0),  # [N, S]
        node("ReduceMean", ["distance"], [SCORE_OUTPUT], axes=[1], keepdims=0),  # [N]
        node("Gather", ["deviation", "last_position"], [DEVIATION_OUTPUT], axis=1),  # [N, F]
    ]


def build_model(detector: FittedDetector) -> onnx.ModelProto:
    """The detector as an ONNX model: input [N, W, F] raw readings (oldest first) -> score [N]."""
    n_columns = len(detector.columns)
    window_rows = detector.config.window_rows
    graph = helper.make_graph(
        _nodes(),
        "altaviz_residual_detector",
        [
            helper.make_tensor_value_info(
                INPUT_NAME, TensorProto.DOUBLE, ["N", window_rows, n_columns]
            )
        ],
        [
            helper.make_tensor_value_info(SCORE_OUTPUT, TensorProto.DOUBLE, ["N"]),
            helper.make_tensor_value_info(DEVIATION_OUTPUT, TensorProto.DOUBLE, ["N", n_columns]),
        ],
        initializer=_initializers(detector),
    )
    metadata = {
        "altaviz.columns": json.dumps(list(detector.columns)),
        "altaviz.threshold": repr(detector.threshold),
        "altaviz.min_run": str(detector.config.min_run),
        "altaviz.detector": json.dumps(detector.summary(), default=str),
    }
    return finish_model(graph, metadata, what="the detector graph")


def finish_model(graph: onnx.GraphProto, metadata: dict[str, str], *, what: str) -> onnx.ModelProto:
    """An opset-17 model of `graph` with `metadata`, checked (ModelExportError if invalid)."""
    model = helper.make_model(
        graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="altaviz-models"
    )
    model.ir_version = 8  # readable by every onnxruntime >= 1.10
    helper.set_model_props(model, metadata)
    try:
        onnx.checker.check_model(model, full_check=True)
    except onnx.checker.ValidationError as exc:
        raise ModelExportError(f"{what} is not valid ONNX: {exc}") from exc
    return model


def export_bytes(detector: FittedDetector) -> bytes:
    """Serialized ONNX model, ready to write to a bundle."""
    return build_model(detector).SerializeToString()
