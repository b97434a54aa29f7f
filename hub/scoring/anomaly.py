"""Anomaly scores of silver readings, per compressor-minute and per compressor-hour (pure pandas).

The readings go through the one feature implementation (shared.features.rolling_features,
with the window the bundle was trained with) and the bundle's ONNX graph, exactly as at
the station. A caller passes the readings to score plus enough preceding context for the
rolling windows (two windows, `context_s`); rows before `since` only feed the features.

- `anomaly_minutes`: one `model_scores` row per compressor-minute, score_kind `anomaly`,
  score = the highest reading score of the minute (what an alarm would have seen).
- `model_hours`: the hourly view the RUL and drift models read (models/hourly.py): per
  compressor-hour means of the detector's features over running rows, the peak of the
  discharge-temperature mean, the hour's highest score and whether an alarm episode (the
  bundle's raise/clear hysteresis, as the station applies it) was open in it.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from hub.scoring.bundles import AnomalyModel
from hub.scoring.rows import at_or_after, score_frame, utc_series, utc_timestamp
from models.episodes import episode_mask, episodes_of
from models.hourly import HOURLY_FEATURES, MIN_RUNNING_SHARE
from shared.features import FEATURE_NAMES, rolling_features
from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, OperatingState, Quality

ID_COLUMNS = ["org_id", "station_id", "compressor_id"]
#: Columns of silver readings the scoring reads.
READING_COLUMNS = [*ID_COLUMNS, "timestamp", "operating_state", *SENSOR_FIELDS, *QUALITY_FIELDS]
_HOURLY_INDEX = [FEATURE_NAMES.index(f) for f in HOURLY_FEATURES]
_TEMP_MEAN = FEATURE_NAMES.index("discharge_temp_f_mean")

MODEL_HOUR_COLUMNS = [
    *ID_COLUMNS, "hour", *HOURLY_FEATURES, "discharge_temp_f_peak", "rows", "score_max", "alarm",
]  # fmt: skip


def context_s(model: AnomalyModel) -> float:
    """Seconds of readings before the first scored one that its features need."""
    return 2.0 * model.spec.window_s


def context_start(since: datetime, model: AnomalyModel) -> pd.Timestamp:
    """Earliest reading time to pass when scoring from `since`."""
    return utc_timestamp(since) - pd.Timedelta(seconds=context_s(model))


def score_readings(readings: pd.DataFrame, model: AnomalyModel) -> pd.DataFrame:
    """Readings sorted per compressor and time, with their features and `score` (NaN: unscored)."""
    frame = readings.assign(timestamp=utc_series(readings["timestamp"]))
    frame = frame.sort_values(["compressor_id", "timestamp"], kind="stable").reset_index(drop=True)
    values = (
        np.column_stack(
            [
                np.where(
                    frame[q].to_numpy() == int(Quality.OK),
                    frame[s].to_numpy(dtype=np.float64, na_value=np.nan),
                    np.nan,
                )
                for s, q in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True)
            ]
        )
        if len(frame)
        else np.empty((0, len(SENSOR_FIELDS)))
    )
    times = frame["timestamp"].to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6
    compressors = frame["compressor_id"].astype(str).to_numpy()
    groups = np.r_[0, np.cumsum(compressors[1:] != compressors[:-1])] if len(frame) else None
    features = rolling_features(values, times, model.spec, groups=groups)
    scores = model.score(
        features, compressors.tolist(), frame["operating_state"].astype(str).tolist()
    )
    frame["score"] = scores
    frame["anomalous"] = model.anomalous(scores)
    frame["alarm"] = _in_episode(frame, scores, model)
    for i in (*_HOURLY_INDEX, _TEMP_MEAN):
        frame[FEATURE_NAMES[i]] = features[:, i]
    return frame


def _in_episode(frame: pd.DataFrame, scores: np.ndarray, model: AnomalyModel) -> np.ndarray:
    """Rows inside an alarm episode as the station would raise it (the bundle's hysteresis)."""
    limits = model.thresholds
    if limits.anomalous_when != "above" or frame.empty:
        return np.asarray(model.anomalous(scores), dtype=bool)
    episodes = episodes_of(
        frame, scores, raise_at=limits.raise_at, clear_at=limits.clear_at,
        raise_after=limits.raise_after, clear_after=limits.clear_after,
    )  # fmt: skip
    return episode_mask(frame, episodes)


def anomaly_minutes(
    readings: pd.DataFrame, model: AnomalyModel, *, since: datetime | None = None
) -> pd.DataFrame:
    """One `model_scores` row per compressor-minute at or after `since` with a scored reading."""
    scored = score_readings(readings, model)
    scored = scored[np.isfinite(scored["score"].to_numpy())]
    scored = scored.assign(minute=scored["timestamp"].dt.floor("min"))
    scored = at_or_after(scored, "minute", since)
    minutes = (
        scored.groupby([*ID_COLUMNS, "minute"], sort=True)["score"].max().reset_index()
        if len(scored)
        else pd.DataFrame(columns=[*ID_COLUMNS, "minute", "score"])
    )
    return score_frame(
        minutes.rename(columns={"minute": "scored_at"}),
        model_id=model.model_id,
        model_version=model.version,
        score_kind="anomaly",
    )


def model_hours(
    readings: pd.DataFrame,
    model: AnomalyModel,
    *,
    interval_s: float,
    since: datetime | None = None,
) -> pd.DataFrame:
    """The hourly model view (MODEL_HOUR_COLUMNS) of hours at or after `since`.

    An hour counts when at least half of it (at one reading per `interval_s`) was
    running with finite detector features, as in models/hourly.py.
    """
    scored = score_readings(readings, model)
    running = scored[scored["operating_state"] == OperatingState.RUNNING]
    running = running[np.isfinite(running[list(HOURLY_FEATURES)].to_numpy()).all(axis=1)]
    running = running.assign(hour=running["timestamp"].dt.floor("h"))
    running = at_or_after(running, "hour", since)
    if running.empty:
        return pd.DataFrame(columns=MODEL_HOUR_COLUMNS)
    aggregations: dict[str, tuple[str, str]] = {f: (f, "mean") for f in HOURLY_FEATURES}
    aggregations["discharge_temp_f_peak"] = ("discharge_temp_f_mean", "max")
    aggregations["rows"] = ("discharge_temp_f_mean", "size")
    aggregations["score_max"] = ("score", "max")
    aggregations["alarm"] = ("alarm", "max")
    hourly = running.groupby([*ID_COLUMNS, "hour"], sort=True).agg(**aggregations).reset_index()
    hourly = hourly[hourly["rows"] >= MIN_RUNNING_SHARE * 3600.0 / interval_s]
    hourly["alarm"] = hourly["alarm"].astype(bool)
    hourly["rows"] = hourly["rows"].astype(np.int64)
    return hourly[MODEL_HOUR_COLUMNS].reset_index(drop=True)
