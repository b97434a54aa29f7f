"""The per-compressor detector as one ONNX graph in the edge agent's input layout.

Inputs: `features` double [N, k] (the manifest's feature list, in order, exactly
what `shared.bundle_model.BundleModel.select` builds) and `compressor_index`
int64 [N] (the row's position in the model's compressor list, carried in the
model metadata `altaviz.compressors`). Every baseline is a row of a stacked table
and `Gather` picks the row's compressor, so one session scores the whole station.
Outputs: `scores` double [N] (1.0 = that compressor's alarm level) and
`feature_deviation` double [N, k] (robust-z deviation from the baseline mean:
which input moved).
"""

from __future__ import annotations

import json

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from models.anomaly import FleetAnomalyModel
from models.onnx_graph import finish_model
from shared.model_graph import COMPRESSOR_INPUT, META_COMPRESSORS, META_SCORED_STATES

FEATURES_INPUT = "features"
SCORE_OUTPUT = "scores"
DEVIATION_OUTPUT = "feature_deviation"


def _tables(model: FleetAnomalyModel) -> dict[str, np.ndarray]:
    baselines = [model.baselines[c] for c in model.compressors]
    return {
        "center_table": np.stack([b.center for b in baselines]),
        "scale_table": np.stack([b.scale for b in baselines]),
        "mean_table": np.stack([b.mean for b in baselines]),
        "whitening_table": np.stack([b.whitening for b in baselines]),
        "threshold_table": np.array([b.threshold for b in baselines]),
        "precision_table": np.stack([b.precision for b in baselines]),
        "conditional_scale_table": np.stack(
            [1.0 / np.sqrt(np.diag(b.precision)) for b in baselines]
        ),
        "conditional_threshold_table": np.array([b.conditional_threshold for b in baselines]),
        "row_axis": np.array([1], dtype=np.int64),
        "sum_axes": np.array([1, 2], dtype=np.int64),
    }


def _nodes() -> list[onnx.NodeProto]:
    node = helper.make_node
    pick = COMPRESSOR_INPUT
    return [
        node("Gather", ["center_table", pick], ["center"], axis=0),  # [N, k]
        node("Gather", ["scale_table", pick], ["scale"], axis=0),
        node("Gather", ["mean_table", pick], ["mean"], axis=0),
        node("Gather", ["whitening_table", pick], ["whitening"], axis=0),  # [N, k, k]
        node("Gather", ["threshold_table", pick], ["threshold"], axis=0),  # [N]
        node("Sub", [FEATURES_INPUT, "center"], ["centred"]),
        node("Div", ["centred", "scale"], ["standardized"]),
        node("Sub", ["standardized", "mean"], [DEVIATION_OUTPUT]),
        node("Unsqueeze", [DEVIATION_OUTPUT, "row_axis"], ["deviation_row"]),  # [N, 1, k]
        node("MatMul", ["deviation_row", "whitening"], ["whitened"]),  # [N, 1, k]
        node("Mul", ["whitened", "whitened"], ["whitened_sq"]),
        node("ReduceSum", ["whitened_sq", "sum_axes"], ["distance"], keepdims=0),  # [N]
        node("Div", ["distance", "threshold"], ["joint_score"]),
        # Each input's residual given the others: (deviation @ precision) / sqrt(diag(precision)).
        node("Gather", ["precision_table", pick], ["precision"], axis=0),  # [N, k, k]
        node("Gather", ["conditional_scale_table", pick], ["conditional_scale"], axis=0),
        node("Gather", ["conditional_threshold_table", pick], ["conditional_threshold"], axis=0),
        node("MatMul", ["deviation_row", "precision"], ["precise_row"]),  # [N, 1, k]
        node("Squeeze", ["precise_row", "row_axis"], ["precise"]),  # [N, k]
        node("Mul", ["precise", "conditional_scale"], ["conditional"]),
        node("Mul", ["conditional", "conditional"], ["conditional_sq"]),
        node("ReduceMax", ["conditional_sq"], ["largest_conditional"], axes=[1], keepdims=0),
        node("Div", ["largest_conditional", "conditional_threshold"], ["single_score"]),
        node("Max", ["joint_score", "single_score"], [SCORE_OUTPUT]),
    ]


def build_model(model: FleetAnomalyModel) -> onnx.ModelProto:
    """The fleet detector as an ONNX model (opset 17, standard operators only)."""
    k = len(model.config.features)
    initializers = [
        numpy_helper.from_array(
            np.asarray(value, dtype=np.int64 if value.dtype == np.int64 else np.float64), name
        )
        for name, value in _tables(model).items()
    ]
    graph = helper.make_graph(
        _nodes(),
        "altaviz_compressor_anomaly",
        [
            helper.make_tensor_value_info(FEATURES_INPUT, TensorProto.DOUBLE, ["N", k]),
            helper.make_tensor_value_info(COMPRESSOR_INPUT, TensorProto.INT64, ["N"]),
        ],
        [
            helper.make_tensor_value_info(SCORE_OUTPUT, TensorProto.DOUBLE, ["N"]),
            helper.make_tensor_value_info(DEVIATION_OUTPUT, TensorProto.DOUBLE, ["N", k]),
        ],
        initializer=initializers,
    )
    metadata = {
        META_COMPRESSORS: json.dumps(model.compressors),
        META_SCORED_STATES: json.dumps(list(model.config.scored_states)),
        "altaviz.features": json.dumps(list(model.config.features)),
        "altaviz.model": json.dumps(model.summary(), default=str),
    }
    return finish_model(graph, metadata, what="the compressor detector graph")


def export_bytes(model: FleetAnomalyModel) -> bytes:
    return build_model(model).SerializeToString()
