"""Rows of gold `model_scores` (hub/lakehouse/tables.py `_scores_schema`) as pandas frames."""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

#: The gold MODEL_SCORES columns, in order.
SCORE_COLUMNS = [
    "org_id", "station_id", "compressor_id", "scored_at", "model_id", "model_version",
    "score_kind", "score", "horizon_s", "lower", "upper",
]  # fmt: skip


def utc_series(stamps: pd.Series) -> pd.Series:
    """Timestamps as timezone-aware UTC (Spark hands UTC wall times over without a zone)."""
    stamps = pd.to_datetime(stamps)
    if getattr(stamps.dt, "tz", None) is None:
        return stamps.dt.tz_localize("UTC")
    return stamps.dt.tz_convert("UTC")


def utc_timestamp(moment: datetime | pd.Timestamp) -> pd.Timestamp:
    stamp = pd.Timestamp(moment)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def at_or_after(frame: pd.DataFrame, column: str, since: datetime | None) -> pd.DataFrame:
    return frame if since is None else frame[frame[column] >= utc_timestamp(since)]


def score_frame(
    frame: pd.DataFrame, *, model_id: str, model_version: str, score_kind: str
) -> pd.DataFrame:
    """`frame` (ids, scored_at, score and any of horizon_s/lower/upper) as MODEL_SCORES rows."""
    out = pd.DataFrame(
        {
            "org_id": frame["org_id"].astype(str).to_numpy() if len(frame) else [],
            "station_id": frame["station_id"].astype(str).to_numpy() if len(frame) else [],
            "compressor_id": frame["compressor_id"].astype(str).to_numpy() if len(frame) else [],
            "scored_at": utc_series(frame["scored_at"])
            if len(frame)
            else pd.Series([], dtype="datetime64[us, UTC]"),
        }
    )
    out["model_id"] = model_id
    out["model_version"] = model_version
    out["score_kind"] = score_kind
    for column in ("score", "lower", "upper"):
        values = frame[column] if column in frame else pd.Series(np.nan, index=frame.index)
        out[column] = values.astype("float64").to_numpy()
    horizon = frame["horizon_s"] if "horizon_s" in frame else pd.Series(pd.NA, index=frame.index)
    out["horizon_s"] = horizon.astype("Int64").to_numpy()
    return out[SCORE_COLUMNS].reset_index(drop=True)


def concat_scores(frames: list[pd.DataFrame]) -> pd.DataFrame:
    parts = [f for f in frames if len(f)]
    if not parts:
        return score_frame(
            pd.DataFrame(columns=["org_id", "station_id", "compressor_id", "scored_at", "score"]),
            model_id="", model_version="", score_kind="",
        )  # fmt: skip
    return pd.concat(parts, ignore_index=True)[SCORE_COLUMNS]
