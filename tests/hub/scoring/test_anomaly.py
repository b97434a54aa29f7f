"""Anomaly scores per compressor-minute from a real ONNX bundle, as the edge scores them."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from edge_agent.errors import ModelError
from edge_agent.model_runtime import FeatureRows, OnnxModel
from hub.scoring.anomaly import anomaly_minutes, context_start, model_hours
from hub.scoring.bundles import AnomalyModel
from hub.scoring.errors import ModelRefused
from hub.scoring.rows import SCORE_COLUMNS
from shared.bundle import open_bundle
from shared.features import rolling_features
from shared.schema import SENSOR_FIELDS
from tests.edge_agent.bundles import zscore_bundle, zscore_onnx
from tests.hub.scoring.support import START, readings_frame

KEY = Ed25519PrivateKey.generate()


def _bundle(**manifest: object):  # type: ignore[no-untyped-def]
    _, _, archive = zscore_bundle(KEY, version="7", **manifest)
    return open_bundle(archive, KEY.public_key())


def test_minute_scores_are_the_edge_models_scores_with_name_and_version() -> None:
    bundle = _bundle()
    readings = readings_frame(6, hot_from_minute=3)
    minutes = anomaly_minutes(readings, AnomalyModel(bundle.manifest, bundle.files))

    assert list(minutes.columns) == SCORE_COLUMNS
    assert set(minutes["model_id"]) == {"anomaly-zscore"}
    assert set(minutes["model_version"]) == {"7"}
    assert set(minutes["score_kind"]) == {"anomaly"}
    assert len(minutes) == 2 * 6  # one row per compressor-minute
    # What the station's runtime computes for the same readings (features, then ONNX).
    edge = OnnxModel(bundle)
    for compressor, rows in readings.groupby("compressor_id"):
        times = rows["timestamp"].map(pd.Timestamp.timestamp).to_numpy()
        features = rolling_features(rows[list(SENSOR_FIELDS)].to_numpy(float), times, edge.spec)
        index, scores = edge.score_rows(
            FeatureRows(features, [compressor] * len(rows), ["running"] * len(rows))
        )
        minute = rows["timestamp"].iloc[index].dt.floor("min").to_numpy()
        expected = pd.Series(scores).groupby(minute).max()
        got = minutes[minutes["compressor_id"] == compressor].set_index("scored_at")["score"]
        np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)
    hot = minutes[(minutes["compressor_id"] == "C01")]
    assert (hot["score"].iloc[4:] > 6.0).all() and (hot["score"].iloc[:2] < 6.0).all()


def test_context_before_since_feeds_features_but_is_not_scored() -> None:
    bundle = _bundle()
    model = AnomalyModel(bundle.manifest, bundle.files)
    readings = readings_frame(10, hot_from_minute=5)
    since = START + pd.Timedelta(minutes=6)
    whole = anomaly_minutes(readings, model)
    window = readings[readings["timestamp"] >= context_start(since, model)]
    part = anomaly_minutes(window, model, since=since)

    assert part["scored_at"].min() == since
    expected = whole[whole["scored_at"] >= since].reset_index(drop=True)
    pd.testing.assert_frame_equal(part, expected)


def test_hourly_view_has_the_hours_features_peak_and_alarm() -> None:
    bundle = _bundle()
    model = AnomalyModel(bundle.manifest, bundle.files)
    hours = model_hours(readings_frame(60, hot_from_minute=20), model, interval_s=2.0)

    assert list(hours["compressor_id"]) == ["C01", "C02"]
    hot, normal = hours.iloc[0], hours.iloc[1]
    assert hot["alarm"] and not normal["alarm"]
    assert hot["discharge_temp_f_peak"] > normal["discharge_temp_f_peak"] + 25
    assert hot["score_max"] > 6.0


@pytest.mark.parametrize(
    ("bundle_args", "reason"),
    [
        ({"feature_set_version": 2}, "feature set version 2"),
        ({"onnx_bytes": zscore_onnx([3.0, 215.0], [0.5, 5.0])}, "takes 2 input column(s)"),
        ({"input_name": "x"}, "no input 'x'"),
        ({"score_output": "y"}, "no output 'y'"),
        ({"features": ["vibration_mms_mean", "oil_temp_f_mean", "pressure_ratio"]}, "unknown"),
    ],
)
def test_a_model_whose_inputs_do_not_match_is_refused(bundle_args: dict, reason: str) -> None:  # type: ignore[type-arg]
    bundle = _bundle(**bundle_args)
    with pytest.raises(ModelRefused, match="anomaly-zscore@7 refused") as refused:
        AnomalyModel(bundle.manifest, bundle.files)
    assert reason in refused.value.reason
    # A station refuses the very same bundle for the very same reason.
    with pytest.raises(ModelError) as edge_refused:
        OnnxModel(bundle)
    assert str(edge_refused.value) == f"anomaly-zscore@7: {refused.value.reason}"
