"""One pass over silver for both minute scores and the hourly model view: per-minute partials.

`anomaly_minutes` and `model_hours` each compute the features and run the ONNX graph;
a micro-batch that needs both can instead compute, once per compressor-minute, the
partial sums both are made of (`minute_partials`), and derive minute scores and hours from
them with plain aggregations (hub/scoring/spark.py `minutes_from_partials`,
`hours_from_partials`). The results are the same rows.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
import pandas as pd

from hub.scoring.anomaly import ID_COLUMNS, score_readings
from hub.scoring.bundles import AnomalyModel
from hub.scoring.rows import at_or_after
from models.hourly import HOURLY_FEATURES
from shared.schema import OperatingState

#: Columns of a partial: per compressor-minute.
PARTIAL_COLUMNS = [
    *ID_COLUMNS, "minute", "score_max", "n_scored", "running_rows", "running_score_max",
    "running_alarm", "discharge_temp_f_peak", *(f"sum_{f}" for f in HOURLY_FEATURES),
]  # fmt: skip


def minute_partials(
    readings: pd.DataFrame, model: AnomalyModel, *, since: datetime | None = None
) -> pd.DataFrame:
    """Per compressor-minute at or after `since`: what minute scores and hours are made of.

    `score_max` / `n_scored`: over every scored reading (the minute's anomaly score);
    the `running_*`, `sum_*` and peak columns: over running readings with finite detector
    features (the hourly model view's rows, models/hourly.py).
    """
    scored = score_readings(readings, model)
    scored = scored.assign(minute=scored["timestamp"].dt.floor("min"))
    scored = at_or_after(scored, "minute", since)
    if scored.empty:
        return pd.DataFrame(columns=PARTIAL_COLUMNS)
    features = scored[list(HOURLY_FEATURES)].to_numpy()
    running = (scored["operating_state"] == OperatingState.RUNNING).to_numpy() & np.isfinite(
        features
    ).all(axis=1)
    parts = scored[[*ID_COLUMNS, "minute"]].assign(
        score=scored["score"],
        scored=np.isfinite(scored["score"].to_numpy()).astype(np.int64),
        running=running.astype(np.int64),
        running_score=scored["score"].where(running),
        running_alarm=scored["alarm"] & running,
        temp_mean=scored["discharge_temp_f_mean"].where(running),
        **{f"sum_{f}": scored[f].where(running, 0.0) for f in HOURLY_FEATURES},
    )
    aggregations: dict[str, tuple[str, str]] = {
        "score_max": ("score", "max"),
        "n_scored": ("scored", "sum"),
        "running_rows": ("running", "sum"),
        "running_score_max": ("running_score", "max"),
        "running_alarm": ("running_alarm", "max"),
        "discharge_temp_f_peak": ("temp_mean", "max"),
        **{f"sum_{f}": (f"sum_{f}", "sum") for f in HOURLY_FEATURES},
    }
    out = parts.groupby([*ID_COLUMNS, "minute"], sort=True).agg(**aggregations).reset_index()
    out["running_alarm"] = out["running_alarm"].astype(bool)
    return out[PARTIAL_COLUMNS]
