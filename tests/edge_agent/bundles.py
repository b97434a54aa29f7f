"""Small real model bundles for tests and benches: a z-score ONNX graph, signed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import onnx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from onnx import TensorProto, helper

from shared.bundle import ScoreThresholds, TrainingInfo, build_bundle
from shared.features import FEATURE_NAMES


def zscore_onnx(means: Sequence[float], stds: Sequence[float], *, output: str = "scores") -> bytes:
    """score = max_k |x_k - mean_k| / std_k (higher is more anomalous)."""
    k = len(means)
    graph = helper.make_graph(
        [
            helper.make_node("Sub", ["features", "mean"], ["centred"]),
            helper.make_node("Div", ["centred", "std"], ["z"]),
            helper.make_node("Abs", ["z"], ["absz"]),
            helper.make_node("ReduceMax", ["absz"], [output], axes=[1], keepdims=0),
        ],
        "zscore",
        [helper.make_tensor_value_info("features", TensorProto.FLOAT, [None, k])],
        [helper.make_tensor_value_info(output, TensorProto.FLOAT, [None])],
        initializer=[
            helper.make_tensor("mean", TensorProto.FLOAT, [k], list(map(float, means))),
            helper.make_tensor("std", TensorProto.FLOAT, [k], list(map(float, stds))),
        ],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model.SerializeToString()


#: Features the test model watches, with a healthy mean and a wide standard deviation.
WATCHED = {
    "vibration_mms_mean": (3.0, 0.5),
    "discharge_temp_f_mean": (215.0, 5.0),
    "pressure_ratio": (13.3, 1.0),
}


def zscore_bundle(
    key: Ed25519PrivateKey,
    *,
    version: str = "1",
    model_id: str = "anomaly-zscore",
    watched: dict[str, tuple[float, float]] | None = None,
    onnx_bytes: bytes | None = None,
    **manifest: Any,
) -> tuple[Any, bytes, bytes]:
    """(manifest, signature, archive) of a signed bundle over `watched` features."""
    watched = watched or WATCHED
    features = list(watched)
    assert all(f in FEATURE_NAMES for f in features)
    model = onnx_bytes or zscore_onnx(
        [m for m, _ in watched.values()], [s for _, s in watched.values()]
    )
    fields: dict[str, Any] = {
        "model_id": model_id,
        "version": version,
        "entrypoint": "model.onnx",
        "features": features,
        "window_s": 10.0,
        "min_samples": 3,
        "thresholds": ScoreThresholds(
            anomalous_when="above", raise_at=6.0, clear_at=4.0, raise_after=2, clear_after=3
        ),
        "training": TrainingInfo(data_from="2026-01-01", data_to="2026-02-01", rows=1000),
        "metrics": {"auc": 0.9},
    }
    fields.update(manifest)
    return build_bundle({"model.onnx": model}, signing_key=key, **fields)


def healthy_matrix(n: int = 50) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.column_stack([rng.normal(m, s / 5, n) for m, s in WATCHED.values()]).astype(
        np.float32
    )
