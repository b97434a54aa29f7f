"""Edge cost of the compressor detector: features and ONNX scoring of one station poll.

A simulator week of EF-KARNES (3 compressors, 1-minute readings) fits the detector; the
edge agent's own classes (StreamingFeatures, OnnxModel from a signed bundle) then take
the readings one poll (one instant, 3 readings) at a time, as a station would.

Run: .venv/bin/python bench/models_compressor_latency.py [--polls 2000]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np

from edge_agent.model_runtime import FeatureRows, OnnxModel
from models.anomaly import AnomalyConfig, fit_fleet_model
from models.bundles import build_anomaly_bundle
from models.compressor_features import feature_frame
from models.fleet_runs import open_run
from shared.bundle import generate_signing_key, open_bundle
from shared.features import FeatureSpec, StreamingFeatures, sensor_matrix, timestamps_s
from simulator.cli import main as sim_cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--polls", type=int, default=2000)
    args = parser.parse_args()
    config = AnomalyConfig()
    spec = FeatureSpec(window_s=config.window_s, min_samples=config.min_samples)
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run"
        sim_cli(["--log-level", "WARNING", "generate", "--scenario", "healthy", "--duration", "7d",
                 "--station", "EF-KARNES", "--out", str(out)])  # fmt: skip
        readings = open_run(out).readings().sort_by([("seq", "ascending")])
    model = fit_fleet_model(feature_frame(readings, spec), config)
    key = generate_signing_key()
    _, _, archive = build_anomaly_bundle(model, version="1", signing_key=key, reading_interval_s=60)
    edge_model = OnnxModel(open_bundle(archive, key.public_key()))
    stream = StreamingFeatures(spec)
    units = len(model.baselines)
    feature_s, score_s = [], []
    for poll in range(min(args.polls, readings.num_rows // units)):
        batch = readings.slice(poll * units, units)
        compressors = batch.column("compressor_id").to_pylist()
        started = time.perf_counter()
        features = stream.update(
            compressors, timestamps_s(batch.column("timestamp")), sensor_matrix(batch)
        )
        middle = time.perf_counter()
        rows = FeatureRows(features, compressors, batch.column("operating_state").to_pylist())
        edge_model.score_rows(rows)
        feature_s.append(middle - started)
        score_s.append(time.perf_counter() - middle)
    feature_ms, score_ms = np.array(feature_s[50:]) * 1e3, np.array(score_s[50:]) * 1e3
    print(f"bundle {len(archive)} bytes, {units} compressors x {len(config.features)} inputs")
    print(
        f"per poll of {units} readings: features median {np.median(feature_ms):.3f} ms "
        f"(p99 {np.percentile(feature_ms, 99):.3f}), ONNX scoring median "
        f"{np.median(score_ms):.3f} ms (p99 {np.percentile(score_ms, 99):.3f})"
    )


if __name__ == "__main__":
    main()
