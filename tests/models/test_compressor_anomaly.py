"""The per-compressor detector on simulator data: parity edge vs hub, ONNX vs references.

One simulator week of EF-KARNES (the prototype story: COMP-003 develops a valve leak
from day 3 and trips on day 6 h10) feeds:
- edge vs hub features: the edge agent's streaming features, fed batch by batch as the
  agent receives readings, against the hub's whole-table features (max abs diff 1e-6);
- ONNX vs references: the exported graph in ONNX Runtime (hub scorer and the edge
  agent's runtime, loaded from a signed bundle) against the numpy reference, whose
  Mahalanobis core is itself checked against scikit-learn (1e-5).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from edge_agent.model_runtime import FeatureRows, OnnxModel
from models.anomaly import AnomalyConfig, FleetAnomalyModel, fit_fleet_model, score_frame
from models.anomaly_onnx import export_bytes
from models.anomaly_runtime import FleetOnnxScorer
from models.bundles import build_anomaly_bundle
from models.compressor_features import feature_frame
from models.fleet_runs import FleetRun, open_run
from shared.bundle import generate_signing_key, open_bundle
from shared.features import (
    FEATURE_NAMES,
    FeatureSpec,
    StreamingFeatures,
    sensor_matrix,
    timestamps_s,
)
from simulator.cli import main as sim_cli

CONFIG = AnomalyConfig()
SPEC = FeatureSpec(window_s=CONFIG.window_s, min_samples=CONFIG.min_samples)
FIT_DAYS = 2.5  # COMP-003's valve leak starts on day 3


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> FleetRun:
    out = tmp_path_factory.mktemp("sim") / "prototype"
    args = ["--log-level", "WARNING", "generate", "--scenario", "prototype-7day",
            "--station", "EF-KARNES", "--out", str(out)]  # fmt: skip
    assert sim_cli(args) == 0
    return open_run(out)


@pytest.fixture(scope="module")
def frame(run: FleetRun) -> pd.DataFrame:
    return feature_frame(run.readings(), SPEC)


@pytest.fixture(scope="module")
def model(frame: pd.DataFrame) -> FleetAnomalyModel:
    fit = frame["timestamp"] < frame["timestamp"].min() + pd.Timedelta(days=FIT_DAYS)
    return fit_fleet_model(frame, CONFIG, train_mask=fit.to_numpy())


def _edge_features(readings: pa.Table, batch_rows: int) -> tuple[np.ndarray, list[str], list[str]]:
    """Features as the edge agent computes them: readings in seq order, one batch at a time."""
    ordered = readings.sort_by([("seq", "ascending")])
    stream = StreamingFeatures(SPEC)
    parts = []
    for start in range(0, ordered.num_rows, batch_rows):
        batch = ordered.slice(start, batch_rows)
        parts.append(
            stream.update(
                batch.column("compressor_id").to_pylist(),
                timestamps_s(batch.column("timestamp")),
                sensor_matrix(batch),
            )
        )
    return (
        np.vstack(parts),
        ordered.column("compressor_id").to_pylist(),
        ordered.column("operating_state").to_pylist(),
    )


def _hub_order(readings: pa.Table, frame: pd.DataFrame) -> np.ndarray:
    """Row of `frame` (compressor, time order) for each reading in seq order."""
    ordered = readings.sort_by([("seq", "ascending")]).select(["compressor_id", "timestamp"])
    keys = frame[["compressor_id", "timestamp"]].reset_index().rename(columns={"index": "row"})
    merged = ordered.to_pandas().merge(keys, on=["compressor_id", "timestamp"], how="left")
    return merged["row"].to_numpy()


def test_edge_and_hub_features_agree(run: FleetRun, frame: pd.DataFrame) -> None:
    readings = run.readings()
    edge, _, _ = _edge_features(readings, batch_rows=90)
    hub = frame[list(FEATURE_NAMES)].to_numpy()[_hub_order(readings, frame)]
    assert edge.shape == hub.shape and len(edge) == readings.num_rows
    np.testing.assert_array_equal(np.isnan(edge), np.isnan(hub))
    finite = np.isfinite(hub)
    assert finite.mean() > 0.9
    assert float(np.max(np.abs(edge[finite] - hub[finite]))) <= 1e-6


def test_onnx_scores_match_the_numpy_reference(model: FleetAnomalyModel, frame: pd.DataFrame) -> None:
    reference = score_frame(model, frame)
    onnx = FleetOnnxScorer(export_bytes(model)).score(
        frame[list(CONFIG.features)].to_numpy(), frame["compressor_id"].to_numpy(),
        frame["operating_state"].to_numpy(),
    )  # fmt: skip
    np.testing.assert_array_equal(np.isnan(onnx), np.isnan(reference))
    scored = np.isfinite(reference)
    assert scored.mean() > 0.8
    assert float(np.max(np.abs(onnx[scored] - reference[scored]))) <= 1e-5


def test_the_reference_mahalanobis_is_scikit_learns(model: FleetAnomalyModel, frame: pd.DataFrame) -> None:
    from sklearn.covariance import EmpiricalCovariance

    baseline = model.baselines["COMP-001"]
    rows = frame[(frame["compressor_id"] == "COMP-001") & (frame["operating_state"] == "running")]
    inputs = rows[list(CONFIG.features)].dropna().to_numpy(dtype=np.float64)
    standardized = (inputs - baseline.center) / baseline.scale
    estimator = EmpiricalCovariance().fit(standardized)  # then given the baseline's own fit
    estimator._set_covariance(np.linalg.inv(baseline.precision))
    estimator.location_ = baseline.mean
    sklearn_distance = estimator.mahalanobis(standardized)
    np.testing.assert_allclose(baseline.distances(inputs), sklearn_distance, rtol=1e-5, atol=1e-5)


def test_the_edge_runtime_scores_a_signed_bundle_like_the_hub(
    run: FleetRun, model: FleetAnomalyModel, frame: pd.DataFrame
) -> None:
    key = generate_signing_key()
    _, _, archive = build_anomaly_bundle(model, version="1", signing_key=key, reading_interval_s=60)
    edge_model = OnnxModel(open_bundle(archive, key.public_key()))
    readings = run.readings()
    features, compressors, states = _edge_features(readings, batch_rows=90)
    index, edge_scores = edge_model.score_rows(FeatureRows(features, compressors, states))
    hub_scores = score_frame(model, frame)[_hub_order(readings, frame)]
    assert np.isfinite(hub_scores[index]).all()
    assert np.isnan(np.delete(hub_scores, index)).all()  # the edge skips what the hub skips
    assert float(np.max(np.abs(edge_scores - hub_scores[index]))) <= 1e-5


def test_the_leaking_unit_is_flagged_and_the_healthy_ones_are_not(
    model: FleetAnomalyModel, frame: pd.DataFrame
) -> None:
    scores = score_frame(model, frame)
    day = (frame["timestamp"] - frame["timestamp"].min()).dt.total_seconds().to_numpy() / 86400.0
    unit = frame["compressor_id"].to_numpy()
    leak = (unit == "COMP-003") & (day >= 5.0) & (day < 6.4)
    assert np.nanmean(scores[leak] > 1.0) > 0.5
    healthy = (unit != "COMP-003") & (day >= FIT_DAYS)
    assert np.nanmean(scores[healthy] > 1.0) < 0.05


def test_a_unit_unlike_the_others_is_judged_against_itself(frame: pd.DataFrame) -> None:
    odd = frame.copy()
    hot = odd["compressor_id"] == "COMP-001"
    odd.loc[hot, "discharge_temp_f_mean"] += 40.0  # runs 40 °F hotter than its peers, always
    odd.loc[hot, "hp_per_mmcfd"] *= 1.3
    fit = (odd["timestamp"] < odd["timestamp"].min() + pd.Timedelta(days=FIT_DAYS)).to_numpy()
    scores = score_frame(fit_fleet_model(odd, CONFIG, train_mask=fit), odd)
    later = hot.to_numpy() & ~fit
    assert np.nanmean(scores[later] > 1.0) < 0.05


def test_unknown_units_and_stopped_units_are_not_scored(
    model: FleetAnomalyModel, frame: pd.DataFrame
) -> None:
    scorer = FleetOnnxScorer(export_bytes(model))
    inputs = frame[list(CONFIG.features)].to_numpy()[:10]
    unknown = scorer.score(inputs, ["COMP-999"] * 10, ["running"] * 10)
    assert np.isnan(unknown).all()
    stopped = scorer.score(inputs, ["COMP-001"] * 10, ["standby_pressurized"] * 10)
    assert np.isnan(stopped).all()
