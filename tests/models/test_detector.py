"""The detector's ONNX graph against its numpy reference, and its behaviour on shifts."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from models.detector import DetectorConfig, fit_detector, rolling_mean, score_reference
from models.errors import InputDataError
from models.onnx_graph import build_model, export_bytes
from models.postprocess import flags_from_scores
from models.runtime import OnnxDetector, sliding_windows
from tests.models.conftest import PROJECT_ROOT, make_sensor_series

COLUMNS = ["suction_psi", "discharge_psi", "vibration_ips"]


def _fitted(config: DetectorConfig | None = None, **series_kwargs: object):
    readings = make_sensor_series(**series_kwargs)  # type: ignore[arg-type]
    return readings, fit_detector(readings[:300], COLUMNS, config or DetectorConfig())


@pytest.mark.parametrize(
    "config",
    [DetectorConfig(), DetectorConfig(mean_window=1, smooth_window=1, trim_fraction=0.0)],
)
def test_onnx_scores_match_numpy_reference(config: DetectorConfig) -> None:
    readings, detector = _fitted(config, anomaly=slice(400, 450))
    onnx_scores = OnnxDetector(export_bytes(detector)).score_series(readings).score
    reference = score_reference(detector, readings)
    assert onnx_scores.shape == (len(readings),)
    np.testing.assert_allclose(onnx_scores, reference, rtol=1e-9, atol=1e-5)


def test_deviation_output_is_latest_standardized_mean_minus_fit_mean() -> None:
    readings, detector = _fitted()
    deviation = OnnxDetector(export_bytes(detector)).score_series(readings).deviation
    standardized = (readings - detector.center) / detector.scale
    expected = rolling_mean(standardized, detector.config.mean_window) - detector.feature_mean
    np.testing.assert_allclose(deviation, expected, atol=1e-9)


def test_streaming_windows_score_like_the_whole_series() -> None:
    readings, detector = _fitted()
    scorer = OnnxDetector(export_bytes(detector))
    whole = scorer.score_series(readings).score
    windows = sliding_windows(readings, scorer.window_rows)
    one_at_a_time = [scorer.score_windows(windows[i : i + 1]).score[0] for i in (0, 17, 599)]
    np.testing.assert_allclose(one_at_a_time, whole[[0, 17, 599]], atol=1e-9)


def test_model_carries_columns_and_threshold() -> None:
    _, detector = _fitted(DetectorConfig(min_run=3))
    scorer = OnnxDetector(export_bytes(detector))
    assert scorer.columns == COLUMNS
    assert scorer.threshold == pytest.approx(detector.threshold)
    assert scorer.min_run == 3
    assert scorer.window_rows == detector.config.window_rows
    assert build_model(detector).opset_import[0].version == 17


def test_level_shift_is_flagged_and_normal_rows_mostly_are_not() -> None:
    readings, detector = _fitted(anomaly=slice(400, 500))
    scores = OnnxDetector(export_bytes(detector)).score_series(readings).score
    flags = flags_from_scores(scores, detector.threshold)
    assert flags[410:500].mean() > 0.95
    assert flags[300:400].mean() < 0.05


def test_trimming_keeps_contaminated_fit_rows_out_of_the_baseline() -> None:
    readings = make_sensor_series(anomaly=slice(255, 300))  # 15 % of the fit rows are abnormal
    clean = fit_detector(readings[:250], COLUMNS, DetectorConfig(trim_fraction=0.0))
    trimmed = fit_detector(readings[:300], COLUMNS, DetectorConfig(trim_fraction=0.25))
    untrimmed = fit_detector(readings[:300], COLUMNS, DetectorConfig(trim_fraction=0.0))

    def offset(detector):  # the baseline mean in raw units, compared with the clean fit's
        return np.abs(detector.feature_mean * detector.scale + detector.center - clean_mean).max()

    clean_mean = clean.feature_mean * clean.scale + clean.center
    assert offset(trimmed) < 0.25 * offset(untrimmed)
    separation = {
        name: score_reference(det, readings)[255:300].mean()
        / score_reference(det, readings)[50:250].mean()
        for name, det in (("trimmed", trimmed), ("untrimmed", untrimmed))
    }
    assert separation["trimmed"] > 2 * separation["untrimmed"]


def test_fit_refuses_too_few_rows_and_non_finite_values() -> None:
    readings = make_sensor_series(rows=100)
    with pytest.raises(InputDataError, match="too few"):
        fit_detector(readings[:20], COLUMNS, DetectorConfig())
    readings[5, 1] = np.nan
    with pytest.raises(InputDataError, match="NaN"):
        fit_detector(readings, COLUMNS, DetectorConfig())


def test_runtime_scoring_needs_neither_onnx_nor_sklearn() -> None:
    code = (
        "import sys, models.runtime, models.postprocess, models.detector;"
        "bad = {'sklearn', 'onnx', 'pandas'} & set(sys.modules); assert not bad, bad"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=PROJECT_ROOT)
