"""Gold features on tiny frames: exact minute aggregates, physics, rolling windows."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pandas as pd
import pytest

from hub.lakehouse.assets import assets_frame
from hub.lakehouse.features import (
    minute_aggregates,
    physics_features,
    rolling_features,
    rolling_stats,
)
from hub.lakehouse.flags import ReadingRule, SensorRule
from shared.schema import SENSOR_FIELDS
from tests.hub.lakehouse.frames import (
    START,
    minute_rows,
    minutes_frame,
    naive,
    silver_frame,
    silver_rows,
)


@pytest.mark.spark
def test_minute_aggregates_are_exact_and_skip_faulty_values_and_late_rows(spark) -> None:  # type: ignore[no-untyped-def]
    temps = [200.1, 200.2, 200.3, 999.0, 200.4]
    rows = silver_rows(5, interval_s=15, discharge_temp_f=temps)
    rows[3]["discharge_temp_f_flags"] = int(SensorRule.INSTRUMENT)  # a sensor fault: not used
    rows[4]["rule_flags"] = int(ReadingRule.LATE)  # past the horizon: not in gold at all
    minutes = minute_aggregates(silver_frame(spark, rows)).orderBy("minute_start").collect()
    assert [m.n_readings for m in minutes] == [4]
    minute = minutes[0]
    assert minute.discharge_temp_f_n == 3 and minute.discharge_temp_f_n_fault == 1
    assert minute.discharge_temp_f_sum_milli == 200100 + 200200 + 200300
    assert minute.discharge_temp_f_mean == pytest.approx(200.2)
    assert minute.discharge_temp_f_max == pytest.approx(200.3)


@pytest.mark.spark
def test_physics_features(spark) -> None:  # type: ignore[no-untyped-def]
    minutes = minutes_frame(
        spark,
        minute_rows(
            1,
            suction_pressure_psi=[60.0],
            discharge_pressure_psi=[1000.0],
            gas_flow_mcf=[9000.0],
            horsepower_consumption=[1200.0],
        ),
    )
    assets = assets_frame(spark, [("org-a", "STATION-1", "C01", 3, 350.0, 12.0)])
    row = physics_features(minutes, assets).first()
    ratio = (1000 + 14.696) / (60 + 14.696)
    assert row.pressure_differential_psi == pytest.approx(940.0)
    assert row.compression_ratio == pytest.approx(ratio)
    expected = 22 * ratio ** (1 / 3) * 3 * 9.0 * 1.10 / 1200
    assert row.hp_efficiency == pytest.approx(expected)


def _minutes_pandas(count: int, start_minute: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(minute_rows(count, start=START + timedelta(minutes=start_minute)))
    frame["vibration_mms_sum_milli"] = rng.integers(2000, 4000, count) * 60
    frame["vibration_mms_n"] = 60
    frame["vibration_mms_max"] = rng.uniform(3, 5, count)
    frame["n_readings"] = frame["n_running"] = 60
    frame["minute_start"] = pd.to_datetime(frame["minute_start"])
    return frame


def test_rolling_windows_match_a_direct_computation() -> None:
    minutes = _minutes_pandas(300)
    minutes.loc[10, "n_running"] = 0  # not running: no rolling values, not in others' windows
    out = rolling_stats(minutes)
    running = minutes.drop(index=10)
    at = 250
    window = running[
        (running.minute_start > minutes.minute_start[at] - pd.Timedelta(hours=4))
        & (running.minute_start <= minutes.minute_start[at])
    ]
    means = window.vibration_mms_sum_milli / 60
    assert out.vibration_mms_mean_4h[at] == pytest.approx(
        window.vibration_mms_sum_milli.sum() / 60 / len(window) / 1000
    )
    assert out.vibration_mms_std_4h[at] == pytest.approx(np.floor(means + 0.5).std(ddof=1) / 1000)
    assert out.vibration_mms_max_4h[at] == window.vibration_mms_max.max()
    assert np.isnan(out.vibration_mms_mean_1h[10])
    hour_ago = out.vibration_mms_mean_1h[at - 60]
    assert out.vibration_mms_roc_per_h[at] == pytest.approx(
        out.vibration_mms_mean_1h[at] - hour_ago
    )


def test_rolling_values_do_not_depend_on_where_the_context_starts() -> None:
    """The property reprocessing relies on: same minutes in the window, same bits out."""
    minutes = _minutes_pandas(1800)
    full = rolling_stats(minutes)
    tail = rolling_stats(minutes.iloc[300:].reset_index(drop=True))
    # From 5 h after the tail's first minute, the 1 h/4 h windows and the hourly rate see
    # the same minutes in both: the values must be bit-identical.
    compare = [c for c in full.columns if c.endswith(("_4h", "_1h", "_roc_per_h"))]
    kept = full.iloc[300 + 300 :].reset_index(drop=True)[compare]
    cut = tail.iloc[300:].reset_index(drop=True)[compare]
    pd.testing.assert_frame_equal(kept, cut, check_exact=True)


@pytest.mark.spark
def test_rolling_features_per_compressor_in_spark(spark) -> None:  # type: ignore[no-untyped-def]
    frame = minutes_frame(
        spark,
        minute_rows(3, vibration_mms=[3.0, 4.0, 5.0]),
        minute_rows(2, compressor="C02", vibration_mms=[1.0, 1.0]),
    )
    rows = {(r.compressor_id, r.minute_start): r for r in rolling_features(frame).collect()}
    last = rows[("C01", naive(START + timedelta(minutes=2)))]
    assert last.vibration_mms_mean_1h == pytest.approx(4.0)
    assert last.vibration_mms_max_1h == pytest.approx(5.0)
    assert rows[("C02", naive(START + timedelta(minutes=1)))].vibration_mms_std_1h == 0.0
    columns = rolling_features(frame).columns
    assert all(f"{s}_max_24h" in columns and f"{s}_roc_per_h" in columns for s in SENSOR_FIELDS)


def test_rolling_stats_never_mix_compressors() -> None:
    """One vectorised pass over many compressors gives each the values it gets alone."""
    first = _minutes_pandas(400)
    second = _minutes_pandas(300, start_minute=100)
    second["compressor_id"] = "C02"
    second["vibration_mms_sum_milli"] = second["vibration_mms_sum_milli"] * 2
    together = rolling_stats(pd.concat([second, first], ignore_index=True))
    alone = pd.concat([rolling_stats(first), rolling_stats(second)], ignore_index=True)
    pd.testing.assert_frame_equal(together, alone, check_exact=True)
