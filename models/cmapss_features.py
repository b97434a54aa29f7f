"""Per-engine causal features: each row sees only its own unit's cycles up to that row."""

from __future__ import annotations

import numpy as np
import pandas as pd

MEAN_WINDOWS = (5, 10, 20, 30)
EWM_ALPHAS = (0.1, 0.05)
BASELINE_CYCLES = 30  # early cycles that define an engine's own baseline (test series have >= 31)


def build_features(frame: pd.DataFrame, sensors: list[str]) -> pd.DataFrame:
    """Cycle, raw sensors, rolling means, EWMAs, and their drift from the engine's early baseline."""
    units = frame["unit"]
    columns: dict[str, pd.Series] = {"cycle": frame["cycle"].astype(float)}
    cycle_in_unit = frame.groupby("unit").cumcount()
    for name in sensors:
        values = frame[name].astype(float)
        by_unit = values.groupby(units)
        # Expanding mean frozen after BASELINE_CYCLES rows: causal at every cycle.
        expanding = by_unit.expanding().mean().reset_index(level=0, drop=True).sort_index()
        baseline = expanding.where(cycle_in_unit < BASELINE_CYCLES).groupby(units).ffill()
        columns[name] = values
        for window in MEAN_WINDOWS:
            rolled = by_unit.rolling(window, min_periods=1).mean()
            columns[f"{name}_mean{window}"] = rolled.reset_index(level=0, drop=True).sort_index()
        for window in (10, 20, 30):
            columns[f"{name}_drift{window}"] = columns[f"{name}_mean{window}"] - baseline
        for alpha in EWM_ALPHAS:
            smoothed = by_unit.transform(lambda series, a=alpha: series.ewm(alpha=a).mean())
            columns[f"{name}_ewm{alpha}"] = smoothed
            columns[f"{name}_ewmdrift{alpha}"] = smoothed - baseline
    features = pd.DataFrame(columns, index=frame.index)
    return features.astype(np.float64)
