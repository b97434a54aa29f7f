"""The one feature implementation: edge scoring and hub training both call it.

Features are per compressor, over trailing *time* windows of the six sensors, so a
panel polled every 2 s and one polled every 1 s describe the same physics:

- ``<sensor>``: the latest value;
- ``<sensor>_mean``: mean of the valid values in the last ``window_s`` seconds;
- ``<sensor>_std``: their population standard deviation;
- ``<sensor>_trend``: change of that rolling mean against the window before it,
  per minute (``(mean[t-w, t] - mean[t-2w, t-w]) / w`` — smooth, unlike an endpoint
  difference of noisy samples);
- ``pressure_ratio``: absolute discharge over absolute suction pressure (psia);
- ``hp_per_mmcfd``: driver horsepower per MMcf/d of gas moved (specific power).

A value whose quality is not OK counts as missing. A feature with fewer than
``min_samples`` valid samples behind it is NaN; scorers skip rows with a NaN feature.

`rolling_features` is the single computation. `features_table` applies it to a
whole table (training, shadow scoring); `FeatureWindow` keeps the last ``2 * window_s``
seconds of one compressor and applies it to that window (edge, one reading at a time).
Both give the same numbers up to float rounding (tests hold them to 1e-6 relative).
Pure numpy/pyarrow.
"""

from __future__ import annotations

import itertools
from collections import deque
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, Quality

FEATURE_SET_VERSION = 1

#: psia = psig + atmospheric pressure at sea level.
ATMOSPHERIC_PSI = 14.696

_PER_SENSOR = ("", "_mean", "_std", "_trend")

#: The ordered feature list (the column order of the model input).
FEATURE_NAMES: tuple[str, ...] = (
    *(f"{sensor}{suffix}" for sensor in SENSOR_FIELDS for suffix in _PER_SENSOR),
    "pressure_ratio",
    "hp_per_mmcfd",
)

_SUCTION = SENSOR_FIELDS.index("suction_pressure_psi")
_DISCHARGE = SENSOR_FIELDS.index("discharge_pressure_psi")
_HP = SENSOR_FIELDS.index("horsepower_consumption")
_FLOW = SENSOR_FIELDS.index("gas_flow_mcf")


@dataclass(frozen=True)
class FeatureSpec:
    """Window parameters; a model bundle records the spec it was trained with."""

    window_s: float = 60.0
    min_samples: int = 5
    version: int = FEATURE_SET_VERSION

    @property
    def names(self) -> tuple[str, ...]:
        return FEATURE_NAMES


def rolling_features(values: np.ndarray, times_s: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """Features for every row of ONE compressor's series.

    `values` is (n, 6) float64 in `SENSOR_FIELDS` order, NaN where missing;
    `times_s` is (n,) seconds, non-decreasing. Returns (n, len(FEATURE_NAMES)).
    """
    n = len(times_s)
    out = np.full((n, len(FEATURE_NAMES)), np.nan)
    if n == 0:
        return out
    window = spec.window_s
    start = np.searchsorted(times_s, times_s - window, side="right")
    prev_start = np.searchsorted(times_s, times_s - 2 * window, side="right")
    valid = ~np.isnan(values)
    # Subtract a reference per sensor before the cumulative sums (keeps x^2 sums exact enough).
    reference = np.where(valid.any(axis=0), np.nanmean(np.where(valid, values, np.nan), 0), 0.0)
    centred = np.where(valid, values - reference, 0.0)
    count = _cumsum(valid.astype(np.float64))
    total = _cumsum(centred)
    squares = _cumsum(centred * centred)
    end = np.arange(1, n + 1)

    n_now = count[end] - count[start]
    sum_now = total[end] - total[start]
    mean_c = _divide(sum_now, n_now)
    var = _divide(squares[end] - squares[start], n_now) - mean_c * mean_c
    std = np.sqrt(np.clip(var, 0.0, None))
    n_prev = count[start] - count[prev_start]
    mean_prev_c = _divide(total[start] - total[prev_start], n_prev)
    trend = (mean_c - mean_prev_c) / (window / 60.0)

    enough = n_now >= spec.min_samples
    mean_c = np.where(enough, mean_c, np.nan)
    std = np.where(enough, std, np.nan)
    trend = np.where(enough & (n_prev >= spec.min_samples), trend, np.nan)
    for i in range(len(SENSOR_FIELDS)):
        base = i * len(_PER_SENSOR)
        out[:, base] = values[:, i]
        out[:, base + 1] = mean_c[:, i] + reference[i]
        out[:, base + 2] = std[:, i]
        out[:, base + 3] = trend[:, i]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (values[:, _DISCHARGE] + ATMOSPHERIC_PSI) / (values[:, _SUCTION] + ATMOSPHERIC_PSI)
        specific = values[:, _HP] / (values[:, _FLOW] / 1000.0)
    out[:, -2] = np.where(np.isfinite(ratio), ratio, np.nan)
    out[:, -1] = np.where(np.isfinite(specific), specific, np.nan)
    return out


def _cumsum(array: np.ndarray) -> np.ndarray:
    return np.concatenate([np.zeros((1, *array.shape[1:])), np.cumsum(array, axis=0)])


def _divide(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(denominator > 0, numerator / np.maximum(denominator, 1), np.nan)


def sensor_matrix(table: pa.Table) -> np.ndarray:
    """(n, 6) float64 sensor values from reading rows; values not marked OK become NaN."""
    columns = []
    for sensor, qcol in zip(SENSOR_FIELDS, QUALITY_FIELDS, strict=True):
        values = table.column(sensor).to_numpy(zero_copy_only=False).astype(np.float64)
        if qcol in table.column_names:
            quality = table.column(qcol).to_numpy(zero_copy_only=False)
            values = np.where(quality == int(Quality.OK), values, np.nan)
        columns.append(values)
    return np.column_stack(columns) if columns else np.empty((table.num_rows, 0))


def _seconds(timestamps: pa.ChunkedArray | pa.Array) -> np.ndarray:
    micros = pc.cast(timestamps, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return micros.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6


def features_table(table: pa.Table, spec: FeatureSpec | None = None) -> pa.Table:
    """Features for a whole table of readings (any number of compressors).

    Returns `compressor_id`, `timestamp`, `seq` (when present) and one float64
    column per feature, sorted by compressor then timestamp.
    """
    spec = spec or FeatureSpec()
    keys = [("compressor_id", "ascending"), ("timestamp", "ascending")]
    if "seq" in table.column_names:
        keys.append(("seq", "ascending"))
    ordered = table.sort_by(keys)
    values = sensor_matrix(ordered)
    times = _seconds(ordered.column("timestamp"))
    compressors = ordered.column("compressor_id").to_numpy(zero_copy_only=False)
    result = np.full((ordered.num_rows, len(FEATURE_NAMES)), np.nan)
    if ordered.num_rows:
        boundaries = np.flatnonzero(compressors[1:] != compressors[:-1]) + 1
        edges = [0, *boundaries.tolist(), ordered.num_rows]
        for lo, hi in itertools.pairwise(edges):
            result[lo:hi] = rolling_features(values[lo:hi], times[lo:hi], spec)
    columns: dict[str, pa.Array | pa.ChunkedArray] = {
        "compressor_id": ordered.column("compressor_id"),
        "timestamp": ordered.column("timestamp"),
    }
    if "seq" in ordered.column_names:
        columns["seq"] = ordered.column("seq")
    for i, name in enumerate(FEATURE_NAMES):
        columns[name] = pa.array(result[:, i], pa.float64(), from_pandas=True)
    return pa.table(columns)


def feature_matrix(
    features: pa.Table, names: tuple[str, ...] | list[str] = FEATURE_NAMES
) -> np.ndarray:
    """(n, k) float32 model input in the order `names` gives (a bundle's feature list)."""
    return np.column_stack(
        [features.column(n).to_numpy(zero_copy_only=False) for n in names]
    ).astype(np.float32)


class FeatureWindow:
    """One compressor's recent readings; `push` returns the features of the newest one."""

    def __init__(self, spec: FeatureSpec | None = None, *, max_rows: int = 10_000) -> None:
        self.spec = spec or FeatureSpec()
        self._times: deque[float] = deque(maxlen=max_rows)
        self._values: deque[np.ndarray] = deque(maxlen=max_rows)

    def push(self, time_s: float, values: np.ndarray) -> np.ndarray:
        """Add one reading ((6,) float64, NaN where missing) and return its features."""
        if self._times and time_s < self._times[-1]:
            self.reset()  # the clock went backwards: a window across it means nothing
        self._times.append(time_s)
        self._values.append(np.asarray(values, dtype=np.float64))
        horizon = time_s - 2 * self.spec.window_s
        while self._times and self._times[0] <= horizon:
            self._times.popleft()
            self._values.popleft()
        features = rolling_features(
            np.vstack(self._values), np.fromiter(self._times, np.float64), self.spec
        )
        return features[-1]

    def reset(self) -> None:
        self._times.clear()
        self._values.clear()

    def __len__(self) -> int:
        return len(self._times)
