"""Alarm episodes from a score series, with the edge agent's hysteresis.

Same rule as `edge_agent.alarms.Hysteresis`: an episode opens after `raise_after`
consecutive readings above `raise_at` and closes after `clear_after` consecutive
readings at or below `clear_at`; an unscored reading (NaN) changes nothing.
Evaluation and the hub use this to count the alarms a bundle would raise.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from models.anomaly import compressor_slices
from models.compressor_features import as_timestamp, epoch_seconds


@dataclass(frozen=True)
class Episode:
    compressor_id: str
    raised_at: pd.Timestamp
    cleared_at: pd.Timestamp | None
    peak_score: float


def episode_bounds(
    scores: NDArray[np.float64],
    *,
    raise_at: float,
    clear_at: float,
    raise_after: int,
    clear_after: int,
) -> list[tuple[int, int | None, float]]:
    """(raise row, clear row or None, peak score) of each episode in one compressor's series."""
    episodes: list[tuple[int, int | None, float]] = []
    scored = np.flatnonzero(np.isfinite(scores))
    tripped = scores[scored] > raise_at
    cleared = scores[scored] <= clear_at
    run = 0
    open_at: int | None = None
    peak = -np.inf
    for k, row in enumerate(scored.tolist()):
        if open_at is None:
            run = run + 1 if tripped[k] else 0
            if run >= raise_after:
                open_at, run, peak = row, 0, float(scores[row])
        else:
            peak = max(peak, float(scores[row]))
            run = run + 1 if cleared[k] else 0
            if run >= clear_after:
                episodes.append((open_at, row, peak))
                open_at, run = None, 0
    if open_at is not None:
        episodes.append((open_at, None, peak))
    return episodes


def episodes_of(
    frame: pd.DataFrame,
    scores: NDArray[np.float64],
    *,
    raise_at: float,
    clear_at: float,
    raise_after: int,
    clear_after: int,
) -> list[Episode]:
    """Episodes of every compressor in a frame sorted by compressor then time."""
    found: list[Episode] = []
    compressors = frame["compressor_id"].to_numpy()
    times = epoch_seconds(frame)
    starts = np.flatnonzero(np.r_[True, compressors[1:] != compressors[:-1]])
    ends = np.r_[starts[1:], len(frame)]
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        bounds = episode_bounds(
            scores[start:end],
            raise_at=raise_at,
            clear_at=clear_at,
            raise_after=raise_after,
            clear_after=clear_after,
        )
        for opened, closed, peak in bounds:
            found.append(
                Episode(
                    compressor_id=str(compressors[start]),
                    raised_at=as_timestamp(times[start + opened]),
                    cleared_at=None if closed is None else as_timestamp(times[start + closed]),
                    peak_score=peak,
                )
            )
    return found


def episode_mask(frame: pd.DataFrame, episodes: list[Episode]) -> NDArray[np.bool_]:
    """True for rows inside an episode (raise to clear, or to the end when still open).

    `frame` is sorted by compressor then time (as `feature_frame` returns it).
    """
    mask = np.zeros(len(frame), dtype=bool)
    if not episodes:
        return mask
    times = epoch_seconds(frame)
    slices = compressor_slices(frame)
    for episode in episodes:
        if episode.compressor_id not in slices:
            continue
        part = slices[episode.compressor_id]
        first, last = int(part.start), int(part.stop)
        unit = times[part]
        lo = first + int(np.searchsorted(unit, episode.raised_at.timestamp(), side="left"))
        hi = last
        if episode.cleared_at is not None:
            hi = first + int(np.searchsorted(unit, episode.cleared_at.timestamp(), side="right"))
        mask[lo:hi] = True
    return mask
