"""Per-engine causal features: each row sees only its own unit's cycles up to that row.

The frame must be sorted by unit and cycle (as `read_cmapss` returns it). Every operator
here is causal and linear in the series, so it can be applied to each sensor or to a
linear combination of sensors (the health index) alike.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd

EWM_ALPHAS = (0.1, 0.05)
SLOPE_WINDOWS: tuple[int | None, ...] = (50, None)  # None: every cycle seen so far
BASELINE_CYCLES = 30  # early cycles that define an engine's own baseline (test series have >= 31)

Block = Callable[[np.ndarray], np.ndarray]


def engine_bounds(units: np.ndarray) -> list[tuple[int, int]]:
    """Row ranges [start, stop) of each engine; the rows of an engine must be contiguous."""
    starts = np.flatnonzero(np.r_[True, units[1:] != units[:-1]])
    stops = np.r_[starts[1:], len(units)]
    if len(np.unique(units)) != len(starts):
        raise ValueError("rows of each unit must be contiguous (sort by unit and cycle)")
    return list(zip(starts.tolist(), stops.tolist(), strict=True))


def per_engine(values: np.ndarray, bounds: list[tuple[int, int]], block: Block) -> np.ndarray:
    """Apply `block` to each engine's rows of `values` (rows x columns) separately."""
    out = np.empty_like(values, dtype=np.float64)
    for start, stop in bounds:
        out[start:stop] = block(values[start:stop])
    return out


def ewm(alpha: float) -> Block:
    """Exponentially weighted mean (pandas `adjust=True`)."""
    return lambda y: pd.DataFrame(y).ewm(alpha=alpha).mean().to_numpy()


def rolling_mean(window: int) -> Block:
    """Mean of the last `window` cycles (fewer at the start)."""
    return lambda y: pd.DataFrame(y).rolling(window, min_periods=1).mean().to_numpy()


def baseline(y: np.ndarray) -> np.ndarray:
    """Mean of the first BASELINE_CYCLES cycles, or of all cycles so far before that."""
    expanding = np.cumsum(y, axis=0) / np.arange(1, len(y) + 1)[:, None]
    if len(y) > BASELINE_CYCLES:
        expanding[BASELINE_CYCLES:] = expanding[BASELINE_CYCLES - 1]
    return expanding


def slope(window: int | None) -> Block:
    """Least-squares slope per cycle over the last `window` cycles (all so far when None)."""

    def block(y: np.ndarray) -> np.ndarray:
        n = len(y)
        x = np.arange(n, dtype=np.float64)[:, None]

        def prefix(a: np.ndarray) -> np.ndarray:
            return np.vstack([np.zeros((1, a.shape[1])), np.cumsum(a, axis=0)])

        cx, cxx, cy, cxy = prefix(x), prefix(x * x), prefix(y), prefix(x * y)
        hi = np.arange(1, n + 1)
        lo = np.zeros(n, dtype=int) if window is None else np.maximum(0, hi - window)
        m = (hi - lo)[:, None].astype(np.float64)
        sx, sxx = cx[hi] - cx[lo], cxx[hi] - cxx[lo]
        sy, sxy = cy[hi] - cy[lo], cxy[hi] - cxy[lo]
        den = m * sxx - sx * sx
        num = m * sxy - sx * sy
        return np.divide(num, den, out=np.zeros_like(num), where=den > 0)

    return block


def _slope_name(window: int | None) -> str:
    return "slopeall" if window is None else f"slope{window}"


def build_features(frame: pd.DataFrame, sensors: list[str]) -> pd.DataFrame:
    """Cycle; per sensor: raw value, EWMAs, their drift from the engine's early baseline, slopes."""
    bounds = engine_bounds(frame["unit"].to_numpy())
    raw = frame[sensors].to_numpy(dtype=np.float64)
    blocks: dict[str, np.ndarray] = {"raw": raw}
    base = per_engine(raw, bounds, baseline)
    for alpha in EWM_ALPHAS:
        smoothed = per_engine(raw, bounds, ewm(alpha))
        blocks[f"ewm{alpha}"] = smoothed
        blocks[f"ewmdrift{alpha}"] = smoothed - base
    for window in SLOPE_WINDOWS:
        blocks[_slope_name(window)] = per_engine(raw, bounds, slope(window))
    columns: dict[str, np.ndarray] = {"cycle": frame["cycle"].to_numpy(dtype=np.float64)}
    for kind, values in blocks.items():
        for j, name in enumerate(sensors):
            columns[name if kind == "raw" else f"{name}_{kind}"] = values[:, j]
    return pd.DataFrame(columns, index=frame.index)


HI_MEANS = (5, 10, 20, 30)
HI_EWM_ALPHAS = (0.2, 0.1, 0.05)
HI_SLOPE_WINDOWS: tuple[int | None, ...] = (5, 10, 20, 30, 50, 75, 100, None)


def index_features(units: np.ndarray, index: np.ndarray) -> pd.DataFrame:
    """Causal smoothings of a per-row health index: level, means, EWMAs, slopes, drifts."""
    bounds = engine_bounds(units)
    y = index.astype(np.float64)[:, None]
    columns: dict[str, np.ndarray] = {"hi": index.astype(np.float64)}
    base = per_engine(y, bounds, baseline)[:, 0]
    columns["hi_base"] = base
    for alpha in HI_EWM_ALPHAS:
        columns[f"hi_ewm{alpha}"] = per_engine(y, bounds, ewm(alpha))[:, 0]
    for window in HI_MEANS:
        columns[f"hi_mean{window}"] = per_engine(y, bounds, rolling_mean(window))[:, 0]
    for span in HI_SLOPE_WINDOWS:
        columns[f"hi_{_slope_name(span)}"] = per_engine(y, bounds, slope(span))[:, 0]
    for kind in ("ewm0.1", "ewm0.05", "mean10", "mean30"):
        columns[f"hi_drift_{kind}"] = columns[f"hi_{kind}"] - base
    return pd.DataFrame(columns)
