from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pyarrow as pa

from shared.features import (
    ATMOSPHERIC_PSI,
    FEATURE_NAMES,
    FeatureSpec,
    FeatureWindow,
    StreamingFeatures,
    feature_matrix,
    features_table,
    sensor_matrix,
)
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, Quality
from tests.support.factories import readings


def test_feature_list_is_ordered_and_documented() -> None:
    assert len(FEATURE_NAMES) == 26
    assert FEATURE_NAMES[:4] == (
        "vibration_mms",
        "vibration_mms_mean",
        "vibration_mms_std",
        "vibration_mms_trend",
    )
    assert FEATURE_NAMES[-2:] == ("pressure_ratio", "hp_per_mmcfd")


def _noisy(n: int, compressors: int = 3, seed: int = 1) -> pa.Table:
    rng = np.random.default_rng(seed)
    base = readings(n, compressors=compressors)
    for sensor in SENSOR_FIELDS:
        column = np.array(base.column(sensor).to_pylist()) + rng.normal(0, 1, n)
        base = base.set_column(
            base.schema.get_field_index(sensor), sensor, pa.array(column, pa.float32())
        )
    return base


def test_streaming_window_matches_the_whole_table() -> None:
    table = _noisy(900)
    spec = FeatureSpec(window_s=20, min_samples=3)
    whole = features_table(table, spec)
    windows: dict[str, FeatureWindow] = {}
    streamed: dict[tuple[str, int], np.ndarray] = {}
    values = sensor_matrix(table)
    times = [t.timestamp() for t in table.column("timestamp").to_pylist()]
    for i, compressor in enumerate(table.column("compressor_id").to_pylist()):
        window = windows.setdefault(compressor, FeatureWindow(spec))
        streamed[(compressor, table.column("seq")[i].as_py())] = window.push(times[i], values[i])
    for row in range(whole.num_rows):
        key = (whole.column("compressor_id")[row].as_py(), whole.column("seq")[row].as_py())
        expected = np.array([whole.column(n)[row].as_py() for n in FEATURE_NAMES], dtype=float)
        np.testing.assert_allclose(streamed[key], expected, rtol=1e-6, atol=1e-6)


def test_streaming_updates_longer_than_the_window_match_the_whole_table() -> None:
    """A poll may bring more than two windows of readings (a backlog, accelerated time)."""
    table = _noisy(900)
    spec = FeatureSpec(window_s=20, min_samples=3)
    whole = features_table(table, spec)
    expected = dict(
        zip(
            zip(
                whole.column("compressor_id").to_pylist(),
                whole.column("seq").to_pylist(),
                strict=True,
            ),
            feature_matrix(whole, FEATURE_NAMES).astype(float),
            strict=True,
        )
    )
    values = sensor_matrix(table)
    times = np.array([t.timestamp() for t in table.column("timestamp").to_pylist()])
    compressors = table.column("compressor_id").to_pylist()
    seqs = table.column("seq").to_pylist()
    stream = StreamingFeatures(spec)
    for a, b in ((0, 300), (300, 330), (330, 900)):
        got = stream.update(compressors[a:b], times[a:b], values[a:b])
        want = np.array([expected[(compressors[i], seqs[i])] for i in range(a, b)])
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-4)


def test_rolling_statistics_are_right() -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC)
    n = 40
    temps = [200.0 + i for i in range(n)]  # +1 °F per second
    table = readings(
        n,
        compressors=1,
        timestamp=[start + timedelta(seconds=i) for i in range(n)],
        discharge_temp_f=temps,
    )
    spec = FeatureSpec(window_s=10, min_samples=3)
    features = features_table(table, spec)
    last = {name: features.column(name)[-1].as_py() for name in FEATURE_NAMES}
    window = temps[-10:]
    assert last["discharge_temp_f"] == temps[-1]
    assert abs(last["discharge_temp_f_mean"] - np.mean(window)) < 1e-9
    assert abs(last["discharge_temp_f_std"] - np.std(window)) < 1e-6
    assert abs(last["discharge_temp_f_trend"] - 60.0) < 1e-6  # +10 °F per 10 s window = 60/min
    suction = table.column("suction_pressure_psi")[-1].as_py()
    discharge = table.column("discharge_pressure_psi")[-1].as_py()
    expected_ratio = (discharge + ATMOSPHERIC_PSI) / (suction + ATMOSPHERIC_PSI)
    assert abs(last["pressure_ratio"] - expected_ratio) < 1e-6
    assert features.column("discharge_temp_f_mean")[0].as_py() is None  # too few samples yet


def test_values_not_marked_ok_are_missing() -> None:
    n = 20
    quality = [int(Quality.COMM_ERROR) if i % 2 else 0 for i in range(n)]
    table = readings(n, compressors=1, vibration_mms_quality=quality)
    matrix = sensor_matrix(table)
    assert np.isnan(matrix[1::2, 0]).all() and not np.isnan(matrix[::2, 0]).any()
    features = features_table(table, FeatureSpec(window_s=100, min_samples=3))
    assert features.column("vibration_mms")[1].as_py() is None
    assert features.column("vibration_mms_mean")[-1].as_py() is not None


def test_feature_matrix_follows_the_requested_order() -> None:
    features = features_table(_noisy(60), FeatureSpec(window_s=10, min_samples=1))
    names = ["pressure_ratio", "vibration_mms"]
    matrix = feature_matrix(features, names)
    assert matrix.dtype == np.float32 and matrix.shape == (60, 2)
    assert matrix[0, 1] == np.float32(features.column("vibration_mms")[0].as_py())


def test_window_resets_when_time_goes_backwards() -> None:
    window = FeatureWindow(FeatureSpec(window_s=10, min_samples=1))
    for t in range(5):
        window.push(1000.0 + t, np.ones(len(SENSOR_FIELDS)))
    window.push(10.0, np.ones(len(SENSOR_FIELDS)))
    assert len(window) == 1
    assert QUALITY_FIELDS  # the quality columns exist beside every sensor
