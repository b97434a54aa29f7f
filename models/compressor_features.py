"""The shared features of reading rows as a pandas frame, with each reading's operating state.

Training, evaluation and hub-side scoring all go through `shared.features.features_table`
(the one feature implementation the edge agent also runs); this module only keeps the
reading's station and operating state beside its features.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa

from shared.features import FEATURE_NAMES, FeatureSpec, features_table

KEY_COLUMNS = ("station_id", "compressor_id", "timestamp", "operating_state")


def feature_frame(readings: pa.Table, spec: FeatureSpec) -> pd.DataFrame:
    """One row per reading: key columns and every feature, sorted by compressor then time."""
    keys = [("compressor_id", "ascending"), ("timestamp", "ascending")]
    if "seq" in readings.column_names:
        keys.append(("seq", "ascending"))
    ordered = readings.sort_by(keys)
    # features_table sorts by the same keys (stable): its rows line up with `ordered`.
    features = features_table(ordered, spec)
    frame = features.select(["compressor_id", "timestamp", *FEATURE_NAMES]).to_pandas()
    frame.insert(0, "station_id", ordered.column("station_id").to_pandas())
    frame.insert(3, "operating_state", ordered.column("operating_state").to_pandas())
    frame["station_id"] = frame["station_id"].astype(str)
    frame["compressor_id"] = frame["compressor_id"].astype(str)
    frame["operating_state"] = frame["operating_state"].astype(str)
    frame["t_s"] = _seconds(frame["timestamp"])
    return frame


def epoch_seconds(frame: pd.DataFrame) -> np.ndarray:
    """The frame's timestamps as float64 seconds since the epoch (UTC)."""
    if "t_s" in frame.columns:
        return np.asarray(frame["t_s"].to_numpy(), dtype=np.float64)
    return _seconds(frame["timestamp"])


def _seconds(stamps: pd.Series) -> np.ndarray:
    if getattr(stamps.dt, "tz", None) is not None:
        stamps = stamps.dt.tz_convert("UTC").dt.tz_localize(None)
    return stamps.to_numpy(dtype="datetime64[us]").astype(np.int64) / 1e6


def as_timestamp(seconds: float) -> pd.Timestamp:
    return pd.Timestamp(round(seconds * 1e6), unit="us", tz="UTC")


def attach_truth(frame: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Left-join ground-truth columns on (compressor_id, timestamp), keeping the frame's order."""
    extra = truth.drop(columns=["operating_state"], errors="ignore")
    merged = frame.merge(extra, on=["compressor_id", "timestamp"], how="left", sort=False)
    if len(merged) != len(frame):
        raise ValueError("truth has duplicate (compressor_id, timestamp) keys")
    return merged
