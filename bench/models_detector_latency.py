"""Edge scoring latency of the residual detector: one window vs a batch, ONNX Runtime only.

Run: .venv/bin/python bench/models_detector_latency.py [--columns 12] [--rows 10000]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from models.detector import DetectorConfig, fit_detector
from models.onnx_graph import export_bytes
from models.runtime import OnnxDetector, sliding_windows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--columns", type=int, default=12)
    parser.add_argument("--rows", type=int, default=10_000)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    readings = rng.normal(size=(args.rows, args.columns)) @ rng.normal(size=(args.columns,) * 2)
    names = [f"sensor_{i}" for i in range(args.columns)]
    detector = fit_detector(readings[:1000], names, DetectorConfig())
    model = export_bytes(detector)
    scorer = OnnxDetector(model)
    windows = sliding_windows(readings, scorer.window_rows)
    for _ in range(20):
        scorer.score_windows(windows[:1])
    started = time.perf_counter()
    for i in range(1000):
        scorer.score_windows(windows[i : i + 1])
    one_ms = (time.perf_counter() - started) / 1000 * 1e3
    started = time.perf_counter()
    scorer.score_series(readings)
    batch_s = time.perf_counter() - started
    print(f"model {len(model)} bytes, window {scorer.window_rows} rows x {args.columns} columns")
    print(f"one window: {one_ms:.3f} ms; {args.rows} rows as a series: {batch_s * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
