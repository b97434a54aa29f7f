"""Which rows a (re)trained detector may learn "normal" from, as of a given time.

The same rule serves the hub's scheduled retraining and the walk-forward evaluation:

- the first model learns from the first `reference_days` of a compressor's history
  (commissioning reference);
- later models learn from `window_days` of data that is at least `hindsight_days` old:
  a slow fault (cooler fouling develops over weeks) must not be learnt as normal, and
  data that old has had time to be followed by the failure it was leading to;
- rows within `event_lookback_days` before a known failure up to a day after the unit
  is back in service are left out (maintenance records name the failure and the repair,
  not the onset);
- rows the champion scored above its alarm level are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from models.anomaly import compressor_slices
from models.compressor_features import epoch_seconds

DAY_S = 86400.0


@dataclass(frozen=True)
class TrainingPolicy:
    reference_days: float = 14.0
    window_days: float = 28.0
    hindsight_days: float = 30.0
    retrain_every_days: float = 7.0
    event_lookback_days: float = 30.0
    event_settle_days: float = 1.0

    def window_s(self, first_s: float, as_of_s: float) -> tuple[float, float]:
        """[from, to) epoch seconds of the data a model trained at `as_of_s` may use."""
        reference_end = first_s + self.reference_days * DAY_S
        end = max(reference_end, as_of_s - self.hindsight_days * DAY_S)
        end = min(end, as_of_s)
        start = max(first_s, end - self.window_days * DAY_S)
        if end <= reference_end:
            start = first_s
        return start, end


def known_event_mask(
    frame: pd.DataFrame, faults: pd.DataFrame, *, as_of_s: float, policy: TrainingPolicy
) -> NDArray[np.bool_]:
    """Rows near a failure that had happened by `as_of_s` (lookback before, settle after)."""
    mask = np.zeros(len(frame), dtype=bool)
    if faults.empty:
        return mask
    times = epoch_seconds(frame)
    slices = compressor_slices(frame)
    for fault in faults.itertuples(index=False):
        part = slices.get(str(fault.compressor_id))
        if part is None:
            continue
        failure_s = pd.Timestamp(fault.failure).timestamp()
        if failure_s > as_of_s:
            continue
        back = getattr(fault, "back_in_service", None)
        back_s = pd.Timestamp(back).timestamp() if back is not None and not pd.isna(back) else as_of_s
        start_s = failure_s - policy.event_lookback_days * DAY_S
        end_s = back_s + policy.event_settle_days * DAY_S
        mask[part] |= (times[part] >= start_s) & (times[part] < end_s)
    return mask


def training_mask(
    frame: pd.DataFrame,
    *,
    as_of_s: float,
    first_s: float,
    faults: pd.DataFrame,
    champion_scores: NDArray[np.float64] | None,
    alarm_level: float,
    policy: TrainingPolicy,
) -> NDArray[np.bool_]:
    """Rows a model trained at `as_of_s` may learn normal from (state filtering comes later)."""
    times = epoch_seconds(frame)
    start_s, end_s = policy.window_s(first_s, as_of_s)
    mask = (times >= start_s) & (times < end_s)
    mask &= ~known_event_mask(frame, faults, as_of_s=as_of_s, policy=policy)
    if champion_scores is not None:
        with np.errstate(invalid="ignore"):
            mask &= ~(champion_scores > alarm_level)
    return mask
