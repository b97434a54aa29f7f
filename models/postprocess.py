"""Scores -> 0/1 flags (numpy only, the same rule at the edge and in benchmarks)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def flags_from_scores(
    scores: NDArray[np.float64], threshold: float, *, min_run: int = 1
) -> NDArray[np.int8]:
    """Flag a row once `min_run` consecutive scores (ending at it) exceed the threshold."""
    above = (np.asarray(scores) > threshold).astype(np.int64)
    if min_run <= 1:
        return above.astype(np.int8)
    cumulative = np.concatenate([[0], np.cumsum(above)])
    run_sums = cumulative[min_run:] - cumulative[:-min_run]
    flags = np.zeros_like(above)
    flags[min_run - 1 :] = run_sums == min_run
    return flags.astype(np.int8)
