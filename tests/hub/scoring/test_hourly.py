"""RUL and drift per compressor-hour from the hourly model view, with model name and version."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from threadpoolctl import threadpool_limits

from hub.scoring.bundles import DriftForecaster, RulEstimator
from hub.scoring.hourly import drift_scores, rul_scores
from hub.scoring.rows import SCORE_COLUMNS
from models.drift import DriftConfig, DriftLimits
from models.hourly import HOURLY_FEATURES
from models.rul import RulConfig, feature_columns, fit_rul
from tests.hub.scoring.support import ORG, START

HOURS = 72


def hours_frame() -> pd.DataFrame:
    """Three units of a station; C01's discharge temperature climbs 1 °F/h and alarms late."""
    rng = np.random.default_rng(1)
    rows = []
    for unit in ("C01", "C02", "C03"):
        for h in range(HOURS):
            temp = 215.0 + rng.normal(0, 0.3) + (1.0 * h if unit == "C01" else 0.0)
            row = {f: 1.0 + rng.normal(0, 0.01) for f in HOURLY_FEATURES}
            row |= {"discharge_temp_f_mean": temp, "discharge_temp_f_peak": temp + 2.0}
            rows.append({
                "org_id": ORG, "station_id": "STATION-1", "compressor_id": unit,
                "hour": START + pd.Timedelta(hours=h), **row, "rows": 60,
                "score_max": 2.0 if unit == "C01" and h >= 60 else 0.3,
                "alarm": unit == "C01" and h >= 60,
            })  # fmt: skip
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def rul() -> RulEstimator:
    rng = np.random.default_rng(2)
    n = 300
    features = pd.DataFrame(rng.normal(size=(n, len(feature_columns()))), columns=feature_columns())
    features["degrading"] = True
    features["time_to_failure_s"] = rng.uniform(1, 200, n) * 3600.0
    config = RulConfig(max_iter=5, min_samples_leaf=10, reference_days=1.0)
    with threadpool_limits(limits=1):
        return RulEstimator("compressor-rul", "r1", fit_rul(features, config))


DRIFT = DriftForecaster(
    "discharge-temp-drift", "d1", DriftConfig(window_days=2.0), DriftLimits(260.0, 300.0)
)


def test_rul_is_given_only_while_a_degradation_is_seen(rul: RulEstimator) -> None:
    since = START + pd.Timedelta(hours=48)
    scores = rul_scores(hours_frame(), rul, since=since)

    assert list(scores.columns) == SCORE_COLUMNS
    assert len(scores) == 3 * (HOURS - 48)
    assert scores["scored_at"].min() == since
    assert set(scores["model_id"]) == {"compressor-rul"} and set(scores["model_version"]) == {"r1"}
    assert set(scores["score_kind"]) == {"rul_hours"}
    c01 = scores[scores["compressor_id"] == "C01"].set_index("scored_at")
    warned = c01["score"].notna()
    assert not warned.iloc[: 60 - 48].any() and warned.iloc[60 - 48 :].all()
    assert (c01["lower"][warned] <= c01["score"][warned]).all()
    assert (c01["score"][warned] <= c01["upper"][warned]).all()
    assert scores[scores["compressor_id"] != "C01"]["score"].isna().all()


def test_drift_status_rate_and_forecast(rul: RulEstimator) -> None:
    scores = drift_scores(hours_frame(), DRIFT, since=START + pd.Timedelta(hours=HOURS - 1))

    assert set(scores["model_id"]) == {"discharge-temp-drift"}
    assert set(scores["model_version"]) == {"d1"}
    status = scores[scores["score_kind"] == "drift_status"].set_index("compressor_id")["score"]
    assert status.to_dict() == {"C01": 1.0, "C02": 0.0, "C03": 0.0}
    rate = scores[scores["score_kind"] == "drift_rate_f_per_day"].set_index("compressor_id")
    assert rate.loc["C01", "score"] == pytest.approx(24.0, rel=0.1)
    forecast = scores[scores["score_kind"] == "temp_forecast_f"]
    assert list(forecast["compressor_id"]) == ["C01"] and forecast["horizon_s"].iloc[0] == 86400
    critical = scores[scores["score_kind"] == "drift_critical_h"]
    assert critical["score"].iloc[0] > 0


def test_too_little_history_gives_no_drift_rows() -> None:
    short = hours_frame()
    short = short[short["hour"] < START + pd.Timedelta(hours=6)]
    assert drift_scores(short, DRIFT).empty
