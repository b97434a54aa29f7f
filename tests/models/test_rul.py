"""Remaining useful life: hours with an interval while degrading, otherwise "no degradation detected"."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models.errors import InputDataError
from models.hourly import HOURLY_FEATURES
from models.rul import RulConfig, estimate_latest, feature_columns, fit_rul, predict, rul_features

START = pd.Timestamp("2026-01-01T00:00:00Z")
DAYS = 40
CONFIG = RulConfig(max_iter=60)


def _unit(
    compressor: str, *, fault: tuple[float, float] | None, alarm_from: float | None, seed: int
) -> pd.DataFrame:
    """Hourly rows of one unit: noise, and from `fault` (onset, failure) in days a vibration
    residual that grows toward the failure; the edge alarm is on from `alarm_from`."""
    rng = np.random.default_rng(seed)
    hours = pd.date_range(START, periods=DAYS * 24, freq="h")
    day = np.arange(len(hours)) / 24.0
    frame = pd.DataFrame({"station_id": "S1", "compressor_id": compressor, "hour": hours})
    for feature in HOURLY_FEATURES:
        frame[f"{feature}_peer"] = rng.normal(0.0, 0.1, len(hours))
    ttf = np.full(len(hours), np.nan)
    mode = np.full(len(hours), None, dtype=object)
    if fault is not None:
        onset, failure = fault
        inside = (day >= onset) & (day < failure)
        share = np.clip((day - onset) / (failure - onset), 0.0, 1.0)
        frame.loc[inside, "vibration_mms_mean_peer"] += 4.0 * share[inside] ** 2
        ttf[inside] = (failure - day[inside]) * 86400.0
        mode[inside] = "bearing_wear"
    frame["time_to_failure_s"] = pd.array(ttf, dtype="Float64")
    frame["fault_mode"] = mode
    frame["fault_id"] = np.where(mode == None, None, f"{compressor}.bearing_wear")  # noqa: E711
    frame["score_max"] = np.where(np.isfinite(ttf), 0.5 + 3 * np.nan_to_num(1 - ttf / 8.64e5), 0.3)
    frame["alarm"] = day >= alarm_from if alarm_from is not None else False
    frame["drifting"] = False
    return frame


def _fleet(units: int, *, seed: int) -> pd.DataFrame:
    parts = []
    for u in range(units):
        onset = 18.0 + (u % 4)
        parts.append(_unit(f"C{u}", fault=(onset, onset + 10.0), alarm_from=onset + 2.0, seed=seed + u))
    return pd.concat(parts, ignore_index=True)


def test_a_healthy_unit_gets_no_number() -> None:
    train = rul_features(_fleet(6, seed=1), CONFIG)
    model = fit_rul(train, CONFIG)
    healthy = rul_features(_unit("H", fault=None, alarm_from=None, seed=99), CONFIG)
    (estimate,) = estimate_latest(model, healthy)
    assert not estimate.degradation_detected
    assert estimate.hours is None and estimate.low_hours is None and estimate.high_hours is None
    assert estimate.describe() == "H: no degradation detected"
    predicted = predict(model, healthy)
    assert predicted["rul_h"].isna().all()


def test_a_degrading_unit_gets_hours_with_an_interval() -> None:
    train = rul_features(_fleet(6, seed=1), CONFIG)
    model = fit_rul(train, CONFIG)
    assert model.training_rows == int(train["degrading"].sum())
    test = rul_features(_unit("T", fault=(20.0, 30.0), alarm_from=22.0, seed=50), CONFIG)
    predicted = predict(model, test)
    truth_h = test["time_to_failure_s"].astype("float64").to_numpy() / 3600.0
    rows = predicted["degrading"].to_numpy() & np.isfinite(truth_h) & (truth_h > 0)
    assert rows.sum() > 100
    part = predicted[rows]
    assert (part["rul_low_h"] <= part["rul_h"]).all() and (part["rul_h"] <= part["rul_high_h"]).all()
    error = np.abs(part["rul_h"].to_numpy() - truth_h[rows])
    assert np.median(error) < 48.0
    inside = (part["rul_low_h"] <= truth_h[rows]) & (truth_h[rows] <= part["rul_high_h"])
    assert inside.mean() > 0.5
    # Before the alarm there is no estimate at all.
    assert predicted.loc[~predicted["degrading"], "rul_h"].isna().all()
    # At the hour before failure: a number, and a small one.
    last = estimate_latest(model, test[test["hour"] < START + pd.Timedelta(days=29.9)])
    assert last[0].degradation_detected and last[0].hours is not None and last[0].hours < 72


def test_too_few_degradation_hours_refuse_to_train() -> None:
    few = rul_features(_unit("C0", fault=(30.0, 35.0), alarm_from=34.0, seed=1), CONFIG)
    with pytest.raises(InputDataError, match="detected degradation hours"):
        fit_rul(few, CONFIG)


def test_features_are_causal() -> None:
    unit = _unit("C0", fault=(18.0, 28.0), alarm_from=20.0, seed=4)
    whole = rul_features(unit, CONFIG)
    cut = START + pd.Timedelta(days=24)
    head = rul_features(unit[unit["hour"] < cut], CONFIG)
    columns = feature_columns()
    left = whole.loc[whole["hour"] < cut, columns].to_numpy()
    np.testing.assert_allclose(left, head[columns].to_numpy(), atol=1e-9)
