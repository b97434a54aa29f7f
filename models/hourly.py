"""Hourly per-compressor aggregates of the shared features, and residuals against station peers.

Hub-side models look at hours, not readings. A unit's peers are the other running
units of its station in the same hour: the weather, the gas and the header pressures
are theirs too, so `x - median(peers)` keeps what is particular to the unit (a
fouled cooler) and drops what is common (a hot afternoon, a season).
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from models.anomaly import DEFAULT_FEATURES
from shared.schema import OperatingState

#: Features aggregated per hour (means of their running rows): the detector's inputs.
HOURLY_FEATURES: tuple[str, ...] = DEFAULT_FEATURES
#: An hour counts when at least this share of it was running with finite features.
MIN_RUNNING_SHARE = 0.5


def hourly_aggregates(
    frame: pd.DataFrame, *, interval_s: float, extra: dict[str, str] | None = None
) -> pd.DataFrame:
    """One row per (compressor, hour) with enough running rows: feature means and peak temp.

    `extra` maps more frame columns to an aggregation ("max", "first", ...), e.g. an
    anomaly score column.
    """
    running = frame[frame["operating_state"] == OperatingState.RUNNING]
    running = running[np.isfinite(running[list(HOURLY_FEATURES)].to_numpy()).all(axis=1)]
    hours = running["timestamp"].dt.floor("h")
    aggregations: dict[str, tuple[str, str]] = {f: (f, "mean") for f in HOURLY_FEATURES}
    aggregations["discharge_temp_f_peak"] = ("discharge_temp_f_mean", "max")
    aggregations["rows"] = ("discharge_temp_f_mean", "size")
    for column, how in (extra or {}).items():
        aggregations[column] = (column, how)
    grouped = running.assign(hour=hours).groupby(["station_id", "compressor_id", "hour"], sort=True)
    hourly = grouped.agg(**aggregations).reset_index()
    enough = hourly["rows"] >= MIN_RUNNING_SHARE * 3600.0 / interval_s
    return hourly[enough].reset_index(drop=True)


def peer_residuals(hourly: pd.DataFrame, columns: tuple[str, ...] = HOURLY_FEATURES) -> pd.DataFrame:
    """`<column>_peer`: the column minus the median of the station's other units that hour.

    NaN where a unit had no running peer that hour.
    """
    result = hourly.copy()
    for column in columns:
        result[f"{column}_peer"] = np.nan
    for _, station in hourly.groupby("station_id", sort=False):
        units = sorted(station["compressor_id"].unique())
        if len(units) < 2:
            continue
        for column in columns:
            table = station.pivot(index="hour", columns="compressor_id", values=column)[units]
            values = table.to_numpy()
            for u, unit in enumerate(units):
                others = np.delete(values, u, axis=1)
                with np.errstate(all="ignore"), warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)
                    peer = np.nanmedian(others, axis=1)
                residual = pd.Series(values[:, u] - peer, index=table.index)
                rows = station.index[station["compressor_id"] == unit]
                result.loc[rows, f"{column}_peer"] = residual.reindex(
                    station.loc[rows, "hour"]
                ).to_numpy()
    return result
