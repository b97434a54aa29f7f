"""Discharge-temperature drift forecaster: hours until the warning and critical limits, or "no drift".

Drift is judged on the unit's discharge temperature *relative to its station peers*
(`models.hourly.peer_residuals`), so a heat wave, which all units share, is not a
drift, while a fouling cooler, which only one unit has, is. Over the last
`window_days` of hourly residuals a straight line is fitted; its slope counts as a
drift only when it is at least `min_rate_f_per_day` and `min_z` standard errors above
zero (the standard error uses an effective sample size from the lag-1
autocorrelation, since hourly residuals are far from independent).

The forecast extrapolates the unit's typical daily peak (each day's highest hourly
mean in the window, brought forward to now at the drift rate) at that slope to the
limits of config/thresholds.yaml (`sensors:`); the band combines the slope's 90 % interval with
the day-to-day scatter of the peaks (weather). A limit further than `horizon_days` away, or a slope
whose interval includes zero, gives "no drift" rather than a made-up number.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from shared.thresholds import load_sensor_limits

Z90 = 1.645


@dataclass(frozen=True)
class DriftLimits:
    warning_f: float = 260.0
    critical_f: float = 300.0

    @classmethod
    def from_thresholds(cls, path: Path) -> DriftLimits:
        """The discharge-temperature limits of the one threshold definition (`sensors:` of
        config/thresholds.yaml, shared/thresholds.py)."""
        limit = load_sensor_limits(path).get("discharge_temp_f")
        if limit is None:
            return cls()
        return cls(warning_f=limit.warning, critical_f=limit.critical)


@dataclass(frozen=True)
class DriftConfig:
    window_days: float = 7.0
    min_coverage: float = 0.5  # share of the window's hours that must have a residual
    min_z: float = 3.0
    min_rate_f_per_day: float = 0.5
    horizon_days: float = 30.0


@dataclass(frozen=True)
class LimitForecast:
    """Hours until a limit: central estimate and 90 % band (high None = not bounded)."""

    hours: float
    low_hours: float
    high_hours: float | None


@dataclass(frozen=True)
class DriftForecast:
    compressor_id: str
    as_of: pd.Timestamp
    drifting: bool
    reason: str  # "drift", "no drift", "insufficient data", "no peers"
    rate_f_per_day: float | None = None
    rate_band_f_per_day: tuple[float, float] | None = None
    peak_f: float | None = None
    warning: LimitForecast | None = None
    critical: LimitForecast | None = None

    def describe(self) -> str:
        if not self.drifting:
            return f"{self.compressor_id}: {self.reason}"
        parts = [f"{self.compressor_id}: drifting {self.rate_f_per_day:+.1f} °F/day"]
        for name, limit in (("warning", self.warning), ("critical", self.critical)):
            if limit is None:
                parts.append(f"{name} beyond the horizon")
            elif limit.hours == 0:
                parts.append(f"{name} limit already reached")
            else:
                high = "open" if limit.high_hours is None else f"{limit.high_hours:.0f}"
                parts.append(f"{name} in {limit.hours:.0f} h [{limit.low_hours:.0f}, {high}]")
        return ", ".join(parts)


def _slope(hours: np.ndarray, residuals: np.ndarray) -> tuple[float, float]:
    """OLS slope (per hour) and its standard error with an autocorrelation-adjusted n."""
    x = hours - hours.mean()
    slope = float((x * (residuals - residuals.mean())).sum() / (x * x).sum())
    fitted = residuals.mean() + slope * x
    error = residuals - fitted
    lag1 = float(np.corrcoef(error[:-1], error[1:])[0, 1]) if len(error) > 3 else 0.0
    lag1 = min(max(lag1 if np.isfinite(lag1) else 0.0, 0.0), 0.99)
    effective_n = max(len(error) * (1 - lag1) / (1 + lag1), 3.0)
    variance = float(error.var()) * len(error) / max(effective_n - 2, 1.0)
    return slope, float(np.sqrt(variance / (x * x).sum()))


def _limit(
    level: float, spread: float, limit: float, slope: float, se: float, horizon_h: float
) -> LimitForecast | None:
    """Hours until `level` (±1.645 `spread` of daily-peak weather) reaches `limit` at `slope`/h."""
    if level >= limit:
        return LimitForecast(0.0, 0.0, 0.0)
    gap = limit - level
    hours = gap / slope
    if hours > horizon_h:
        return None
    fast, slow = slope + Z90 * se, slope - Z90 * se
    low = max(gap - Z90 * spread, 0.0) / fast
    high = (gap + Z90 * spread) / slow if slow > 0 else None
    return LimitForecast(hours, low, high)


def _daily_peaks(
    hour_s: np.ndarray, peak_f: np.ndarray, as_of_s: float, days: int
) -> tuple[np.ndarray, np.ndarray]:
    """(hours before `as_of`, highest hourly temperature) of each whole day in the window."""
    ages, peaks = [], []
    for day in range(days):
        lo = int(np.searchsorted(hour_s, as_of_s - (day + 1) * 86400.0))
        hi = int(np.searchsorted(hour_s, as_of_s - day * 86400.0))
        values = peak_f[lo:hi]
        if len(values) and np.isfinite(values).any():
            ages.append(-(day + 0.5) * 24.0)
            peaks.append(float(np.nanmax(values)))
    return np.array(ages), np.array(peaks)


@dataclass(frozen=True)
class UnitHistory:
    """One compressor's hourly rows as arrays (hour start in epoch seconds, sorted)."""

    compressor_id: str
    hour_s: np.ndarray
    peer_residual: np.ndarray
    peak_f: np.ndarray

    @classmethod
    def of(cls, compressor_id: str, hourly: pd.DataFrame) -> UnitHistory:
        rows = hourly.sort_values("hour")
        return cls(
            compressor_id=compressor_id,
            hour_s=rows["hour"].map(pd.Timestamp.timestamp).to_numpy(dtype=np.float64),
            peer_residual=rows["discharge_temp_f_mean_peer"].to_numpy(dtype=np.float64),
            peak_f=rows["discharge_temp_f_peak"].to_numpy(dtype=np.float64),
        )


def forecast(
    history: UnitHistory, *, as_of: pd.Timestamp, config: DriftConfig, limits: DriftLimits
) -> DriftForecast:
    """Forecast one compressor as of `as_of` from its hourly history before that time."""
    as_of_s = as_of.timestamp()
    lo = int(np.searchsorted(history.hour_s, as_of_s - config.window_days * 86400.0))
    hi = int(np.searchsorted(history.hour_s, as_of_s))
    residuals = history.peer_residual[lo:hi]
    usable = np.isfinite(residuals)
    compressor_id = history.compressor_id
    if usable.sum() < config.min_coverage * config.window_days * 24:
        no_peers = hi > lo and not np.isfinite(history.peer_residual[lo:hi]).any()
        return DriftForecast(
            compressor_id, as_of, False, "no peers" if no_peers else "insufficient data"
        )
    hours = (history.hour_s[lo:hi][usable] - as_of_s) / 3600.0
    slope, se = _slope(hours, residuals[usable])
    rate = slope * 24.0
    band = ((slope - Z90 * se) * 24.0, (slope + Z90 * se) * 24.0)
    ages, peaks = _daily_peaks(history.hour_s, history.peak_f, as_of_s, int(config.window_days))
    significant = slope > 0 and slope / max(se, 1e-12) >= config.min_z
    if not significant or rate < config.min_rate_f_per_day or len(peaks) < 2:
        return DriftForecast(compressor_id, as_of, False, "no drift", rate, band)
    # Today's typical daily peak: the peaks brought forward at the drift rate; their scatter
    # around that is the weather's, and widens the band.
    brought_forward = peaks - slope * ages
    level = float(brought_forward.mean())
    spread = float(brought_forward.std(ddof=1))
    horizon_h = config.horizon_days * 24.0
    return DriftForecast(
        compressor_id,
        as_of,
        True,
        "drift",
        rate,
        band,
        level,
        warning=_limit(level, spread, limits.warning_f, slope, se, horizon_h),
        critical=_limit(level, spread, limits.critical_f, slope, se, horizon_h),
    )


def forecast_series(
    hourly: pd.DataFrame, *, every_h: float, config: DriftConfig, limits: DriftLimits
) -> list[DriftForecast]:
    """Forecasts for every compressor every `every_h` hours (evaluation, backfills)."""
    forecasts: list[DriftForecast] = []
    first = hourly["hour"].min().ceil("D") + pd.Timedelta(days=config.window_days)
    last = hourly["hour"].max() + pd.Timedelta(hours=1)
    times = pd.date_range(first, last, freq=pd.Timedelta(hours=every_h))
    for compressor, rows in hourly.groupby("compressor_id", sort=True):
        history = UnitHistory.of(str(compressor), rows)
        forecasts.extend(forecast(history, as_of=t, config=config, limits=limits) for t in times)
    return forecasts
