"""Discharge-temperature drift forecaster: hours to the warning and critical limits, with a band."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models.drift import DriftConfig, DriftLimits, UnitHistory, forecast, forecast_series

REPO = Path(__file__).resolve().parents[2]
#: 03:00 UTC: each 24 h window before it has its 15:00 afternoon peak in the middle.
AS_OF = pd.Timestamp("2026-05-08T03:00:00Z")
LIMITS = DriftLimits(warning_f=260.0, critical_f=300.0)


def _history(
    *,
    rate_f_per_h: float,
    level_f: float = 240.0,
    noise_f: float = 0.0,
    days: float = 7.0,
    peers: bool = True,
    seed: int = 0,
) -> UnitHistory:
    """Hourly history ending just before AS_OF: a linear drift and a 10 °F afternoon swing.

    The daily peak (15:00) is `level_f` at AS_OF's "today" once the drift is brought forward.
    """
    hours = pd.date_range(AS_OF - pd.Timedelta(days=days), AS_OF, freq="h", inclusive="left")
    rel_h = (hours - AS_OF).total_seconds().to_numpy() / 3600.0
    rng = np.random.default_rng(seed)
    noise = rng.normal(0.0, noise_f, len(hours)) if noise_f else np.zeros(len(hours))
    diurnal = 10.0 * np.cos(2 * np.pi * (hours.hour.to_numpy() - 15) / 24.0)
    frame = pd.DataFrame(
        {
            "hour": hours,
            "discharge_temp_f_mean_peer": rate_f_per_h * rel_h + noise if peers else np.nan,
            "discharge_temp_f_peak": level_f - 10.0 + rate_f_per_h * rel_h + diurnal + noise,
        }
    )
    return UnitHistory.of("COMP-001", frame)


def test_a_clean_linear_drift_gives_the_hand_computed_hours() -> None:
    result = forecast(
        _history(rate_f_per_h=0.1), as_of=AS_OF, config=DriftConfig(), limits=LIMITS
    )
    assert result.drifting and result.reason == "drift"
    assert result.rate_f_per_day == pytest.approx(2.4)
    assert result.peak_f == pytest.approx(240.0)
    # (260 - 240) / 0.1 = 200 h to the warning, (300 - 240) / 0.1 = 600 h to the critical.
    assert result.warning is not None and result.critical is not None
    assert result.warning.hours == pytest.approx(200.0)
    assert result.critical.hours == pytest.approx(600.0)
    # No noise and no weather: the band collapses onto the estimate.
    assert result.warning.low_hours == pytest.approx(200.0)
    assert result.warning.high_hours == pytest.approx(200.0)
    assert "warning in 200 h [200, 200]" in result.describe()


def test_noise_widens_the_band_around_the_true_time() -> None:
    result = forecast(
        _history(rate_f_per_h=0.1, noise_f=1.5, seed=3),
        as_of=AS_OF,
        config=DriftConfig(),
        limits=LIMITS,
    )
    assert result.drifting
    warning = result.warning
    assert warning is not None and warning.high_hours is not None
    assert warning.low_hours < warning.hours < warning.high_hours
    assert warning.low_hours <= 200.0 <= warning.high_hours
    assert warning.hours == pytest.approx(200.0, rel=0.2)
    low, high = result.rate_band_f_per_day or (np.nan, np.nan)
    assert low < 2.4 < high


def test_a_steady_unit_is_no_drift_with_no_hours() -> None:
    result = forecast(
        _history(rate_f_per_h=0.0, noise_f=1.0), as_of=AS_OF, config=DriftConfig(), limits=LIMITS
    )
    assert not result.drifting and result.reason == "no drift"
    assert result.warning is None and result.critical is None
    assert result.describe() == "COMP-001: no drift"


def test_a_limit_beyond_the_horizon_is_not_given_a_number() -> None:
    # 0.6 °F/day: the warning is 800 h away, past the 30-day horizon.
    result = forecast(
        _history(rate_f_per_h=0.025), as_of=AS_OF, config=DriftConfig(), limits=LIMITS
    )
    assert result.drifting
    assert result.warning is None and result.critical is None
    assert "warning beyond the horizon" in result.describe()


def test_a_limit_already_passed_says_so() -> None:
    result = forecast(
        _history(rate_f_per_h=0.1, level_f=265.0), as_of=AS_OF, config=DriftConfig(), limits=LIMITS
    )
    assert result.warning is not None and result.warning.hours == 0.0
    assert "warning limit already reached" in result.describe()


def test_too_little_history_or_no_peers_gives_no_forecast() -> None:
    short = forecast(
        _history(rate_f_per_h=0.1, days=2), as_of=AS_OF, config=DriftConfig(), limits=LIMITS
    )
    assert (short.drifting, short.reason) == (False, "insufficient data")
    alone = forecast(
        _history(rate_f_per_h=0.1, peers=False), as_of=AS_OF, config=DriftConfig(), limits=LIMITS
    )
    assert (alone.drifting, alone.reason) == (False, "no peers")


def test_the_forecast_uses_only_hours_before_as_of() -> None:
    history = _history(rate_f_per_h=0.1)
    later = pd.DataFrame(
        {
            "hour": pd.date_range(AS_OF, periods=48, freq="h"),
            "discharge_temp_f_mean_peer": 1000.0,
            "discharge_temp_f_peak": 1000.0,
        }
    )
    earlier = pd.DataFrame(
        {
            "hour": pd.to_datetime(history.hour_s, unit="s", utc=True),
            "discharge_temp_f_mean_peer": history.peer_residual,
            "discharge_temp_f_peak": history.peak_f,
        }
    )
    extended = UnitHistory.of("COMP-001", pd.concat([earlier, later]))
    result = forecast(extended, as_of=AS_OF, config=DriftConfig(), limits=LIMITS)
    assert result.warning is not None and result.warning.hours == pytest.approx(200.0)


def test_forecast_series_walks_every_unit_forward() -> None:
    history = _history(rate_f_per_h=0.1, days=10)
    hourly = pd.DataFrame(
        {
            "compressor_id": "COMP-001",
            "hour": pd.to_datetime(history.hour_s, unit="s", utc=True),
            "discharge_temp_f_mean_peer": history.peer_residual,
            "discharge_temp_f_peak": history.peak_f,
        }
    )
    forecasts = forecast_series(hourly, every_h=12.0, config=DriftConfig(), limits=LIMITS)
    assert forecasts and all(f.compressor_id == "COMP-001" for f in forecasts)
    assert all(f.drifting for f in forecasts)
    times = [f.as_of for f in forecasts]
    assert times == sorted(times) and times[0] >= hourly["hour"].min() + pd.Timedelta(days=7)


def test_limits_come_from_the_one_threshold_definition(tmp_path: Path) -> None:
    shipped = DriftLimits.from_thresholds(REPO / "config" / "thresholds.yaml")
    assert (shipped.warning_f, shipped.critical_f) == (260.0, 300.0)
    custom = tmp_path / "thresholds.yaml"
    custom.write_text(
        "sensors:\n  discharge_temp_f: {direction: above, warning: 250, critical: 290}\n"
    )
    assert DriftLimits.from_thresholds(custom) == DriftLimits(250.0, 290.0)
