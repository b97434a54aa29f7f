"""RUL and discharge-temperature drift from the hourly model view, one station at a time (pandas).

Input: the station's `model_hours` rows (hub/scoring/anomaly.py) with the history the
models look back on (drift: its `window_days`; RUL: 72 h windows and a reference
period, models/rul.py). Peer residuals need the whole station, so a call gets every
compressor of a station. Output rows (gold `model_scores`) for hours at or after `since`:

- drift (model `discharge-temp-drift`), per compressor-hour, as of the end of that hour:
  `drift_status` (1 drifting, 0 no drift; no row while there is too little data),
  `drift_rate_f_per_day` (score, with its 90 % band as lower/upper), and while drifting
  `temp_forecast_f` (the typical daily peak 24 h ahead, horizon_s 86400),
  `drift_warning_h` / `drift_critical_h` (hours until the limit, with the band);
- RUL (model `compressor-rul`), per compressor-hour: `rul_hours` with lower/upper
  (10 % / 90 % quantiles) and horizon_s, or a row with no score when no degradation is
  detected (the model gives no number for a healthy unit).
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from hub.scoring.bundles import DriftForecaster, RulEstimator
from hub.scoring.rows import at_or_after, concat_scores, score_frame, utc_series, utc_timestamp
from models.drift import DriftForecast, UnitHistory, forecast
from models.hourly import peer_residuals
from models.rul import predict, rul_features

DAY_S = 86400


def _prepared(hours: pd.DataFrame) -> pd.DataFrame:
    frame = hours.assign(hour=utc_series(hours["hour"]))
    frame = frame.sort_values(["station_id", "compressor_id", "hour"]).reset_index(drop=True)
    return peer_residuals(frame)


def _forecasts(
    station: pd.DataFrame, drift: DriftForecaster, since: datetime | None
) -> dict[tuple[str, pd.Timestamp], DriftForecast]:
    """Forecast of every compressor as of the end of every hour at or after `since`."""
    out: dict[tuple[str, pd.Timestamp], DriftForecast] = {}
    for compressor, rows in station.groupby("compressor_id", sort=True):
        history = UnitHistory.of(str(compressor), rows)
        for hour in at_or_after(rows, "hour", since)["hour"]:
            as_of = hour + pd.Timedelta(hours=1)
            out[(str(compressor), hour)] = forecast(
                history, as_of=as_of, config=drift.config, limits=drift.limits
            )
    return out


def _drift_rows(
    station: pd.DataFrame, forecasts: dict[tuple[str, pd.Timestamp], DriftForecast]
) -> dict[str, list[dict[str, object]]]:
    ids = station.drop_duplicates("compressor_id").set_index("compressor_id")
    rows: dict[str, list[dict[str, object]]] = {k: [] for k in _KINDS}
    for (compressor, hour), f in forecasts.items():
        if f.rate_f_per_day is None:
            continue  # insufficient data or no peers: nothing to say yet
        base = {
            "org_id": ids.at[compressor, "org_id"],
            "station_id": ids.at[compressor, "station_id"],
            "compressor_id": compressor,
            "scored_at": hour,
        }
        rows["drift_status"].append({**base, "score": 1.0 if f.drifting else 0.0})
        band = f.rate_band_f_per_day or (np.nan, np.nan)
        rows["drift_rate_f_per_day"].append(
            {**base, "score": f.rate_f_per_day, "lower": band[0], "upper": band[1]}
        )
        if not f.drifting or f.peak_f is None:
            continue
        rows["temp_forecast_f"].append({
            **base, "score": f.peak_f + f.rate_f_per_day, "lower": f.peak_f + band[0],
            "upper": f.peak_f + band[1], "horizon_s": DAY_S,
        })  # fmt: skip
        for kind, limit in (("drift_warning_h", f.warning), ("drift_critical_h", f.critical)):
            if limit is not None:
                rows[kind].append({
                    **base, "score": limit.hours, "lower": limit.low_hours,
                    "upper": limit.high_hours, "horizon_s": round(limit.hours * 3600),
                })  # fmt: skip
    return rows


_KINDS = (
    "drift_status", "drift_rate_f_per_day", "temp_forecast_f", "drift_warning_h", "drift_critical_h",
)  # fmt: skip


def drift_scores(
    hours: pd.DataFrame, drift: DriftForecaster, *, since: datetime | None = None
) -> pd.DataFrame:
    """Drift rows (see the module docstring) of one or more stations' hourly model view."""
    frames = []
    prepared = _prepared(hours) if len(hours) else hours
    for _, station in prepared.groupby("station_id", sort=True) if len(prepared) else ():
        rows = _drift_rows(station, _forecasts(station, drift, since))
        for kind in _KINDS:
            if rows[kind]:
                frames.append(
                    score_frame(
                        pd.DataFrame(rows[kind]), model_id=drift.model_id,
                        model_version=drift.version, score_kind=kind,
                    )
                )  # fmt: skip
    return concat_scores(frames)


def _drifting(
    station: pd.DataFrame, drift: DriftForecaster | None, since: datetime | None, memory_h: int
) -> pd.Series:
    """Whether the drift forecaster called each hour drifting (as of the end of the hour).

    Only hours the RUL gate of hours from `since` looks back on (`memory_h`) are forecast.
    """
    if drift is None:
        return pd.Series(False, index=station.index)
    start = None if since is None else utc_timestamp(since) - pd.Timedelta(hours=memory_h)
    forecasts = _forecasts(station, drift, start)
    keys = zip(station["compressor_id"].astype(str), station["hour"], strict=True)
    flags = [bool(forecasts[k].drifting) if k in forecasts else False for k in keys]
    return pd.Series(flags, index=station.index)


def rul_scores(
    hours: pd.DataFrame,
    rul: RulEstimator,
    *,
    drift: DriftForecaster | None = None,
    since: datetime | None = None,
) -> pd.DataFrame:
    """`rul_hours` rows per compressor-hour at or after `since` (no score: no degradation)."""
    frames = []
    prepared = _prepared(hours) if len(hours) else hours
    for _, station in prepared.groupby("station_id", sort=True) if len(prepared) else ():
        memory_h = rul.model.config.gate_memory_h
        station = station.assign(drifting=_drifting(station, drift, since, memory_h))
        features = rul_features(station, rul.model.config)
        wanted = at_or_after(features, "hour", since)
        if wanted.empty:
            continue
        with threadpool_limits(limits=1):  # Spark runs one of these per core already
            predicted = predict(rul.model, wanted)
        ids = station.drop_duplicates("compressor_id").set_index("compressor_id")
        rows = pd.DataFrame(
            {
                "org_id": ids.loc[predicted["compressor_id"], "org_id"].to_numpy(),
                "station_id": ids.loc[predicted["compressor_id"], "station_id"].to_numpy(),
                "compressor_id": predicted["compressor_id"].to_numpy(),
                "scored_at": predicted["hour"].to_numpy(),
                "score": predicted["rul_h"].to_numpy(),
                "lower": predicted["rul_low_h"].to_numpy(),
                "upper": predicted["rul_high_h"].to_numpy(),
            }
        )
        rows["horizon_s"] = (rows["score"] * 3600).round().astype("Int64")
        frames.append(
            score_frame(
                rows, model_id=rul.model_id, model_version=rul.version, score_kind="rul_hours"
            )
        )
    return concat_scores(frames)
