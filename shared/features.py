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
The computation is pure NumPy; only the table helpers (`features_table`, `sensor_matrix`,
`timestamps_s`, `feature_matrix`, used by training and the tools) import Arrow, when called,
so the edge agent never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS, Quality

if TYPE_CHECKING:
    import pyarrow as pa

FEATURE_SET_VERSION = 1

#: psia = psig + atmospheric pressure at sea level.
ATMOSPHERIC_PSI = 14.696

_PER_SENSOR = ("", "_mean", "_std", "_trend")

#: Rows per block of `rolling_features` (bounds the length of its running sums).
BLOCK_ROWS = 2048
#: A one-pass variance below this share of its running sum of squares is recomputed exactly.
_CANCELLATION_MARGIN = 1e-7

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


def rolling_features(
    values: np.ndarray,
    times_s: np.ndarray,
    spec: FeatureSpec,
    *,
    groups: np.ndarray | None = None,
) -> np.ndarray:
    """Features for every row of one or more compressors' series.

    `values` is (n, 6) float64 in `SENSOR_FIELDS` order, NaN where missing;
    `times_s` is (n,) seconds, non-decreasing within each series. `groups` (n,)
    labels the series (rows of one series contiguous); None means one series.
    Windows never cross series. Returns (n, len(FEATURE_NAMES)).

    Rows are computed in blocks of `BLOCK_ROWS` (each with the rows its windows reach
    back to), so the running sums behind means and standard deviations stay as short
    as the edge agent's window buffer: a 90-day fleet table gives the same numbers as
    the readings streamed one batch at a time (to ~1e-9), not numbers that drift with
    the length of the table.
    """
    n = len(times_s)
    out = np.full((n, len(FEATURE_NAMES)), np.nan)
    if n == 0:
        return out
    window = spec.window_s
    times = _separate_series(np.asarray(times_s, dtype=np.float64), groups, window)
    for first in range(0, n, BLOCK_ROWS):
        last = min(first + BLOCK_ROWS, n)
        # Every window of rows first..last-1 starts at or after `lo` (2 windows back).
        lo = int(np.searchsorted(times, times[first] - 2 * window, side="right"))
        lo = min(lo, first)
        out[first:last] = _block_features(values[lo:last], times[lo:last], spec)[first - lo :]
    return out


def _block_features(values: np.ndarray, times: np.ndarray, spec: FeatureSpec) -> np.ndarray:
    """`rolling_features` of rows whose windows all lie within the block (times separated)."""
    n = len(times)
    out = np.full((n, len(FEATURE_NAMES)), np.nan)
    window = spec.window_s
    start = np.searchsorted(times, times - window, side="right")
    prev_start = np.searchsorted(times, times - 2 * window, side="right")
    valid = ~np.isnan(values)
    # Subtract a reference per sensor before the cumulative sums (keeps x^2 sums exact enough).
    with np.errstate(invalid="ignore"):
        counts = valid.sum(axis=0)
        reference = np.where(
            counts > 0, np.where(valid, values, 0.0).sum(axis=0) / np.maximum(counts, 1), 0.0
        )
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
    # Where the variance is small against the running sums it was taken from, the one-pass
    # formula has cancelled away its digits (a flat signal would get a std of ~1e-4, not 0,
    # and a different one on the edge): recompute those windows exactly, in two passes.
    with np.errstate(invalid="ignore", divide="ignore"):
        doubtful = var < _CANCELLATION_MARGIN * squares[end] / np.maximum(n_now, 1)
    for sensor in range(values.shape[1]):
        rows = np.flatnonzero(doubtful[:, sensor] & (n_now[:, sensor] >= spec.min_samples))
        if len(rows):
            std[rows, sensor] = _window_std(values[:, sensor], start, rows)
    n_prev = count[start] - count[prev_start]
    mean_prev_c = _divide(total[start] - total[prev_start], n_prev)
    trend = (mean_c - mean_prev_c) / (window / 60.0)

    enough = n_now >= spec.min_samples
    per_sensor = len(_PER_SENSOR)
    out[:, 0 : per_sensor * len(SENSOR_FIELDS) : per_sensor] = values
    out[:, 1 : per_sensor * len(SENSOR_FIELDS) : per_sensor] = np.where(
        enough, mean_c + reference, np.nan
    )
    out[:, 2 : per_sensor * len(SENSOR_FIELDS) : per_sensor] = np.where(enough, std, np.nan)
    out[:, 3 : per_sensor * len(SENSOR_FIELDS) : per_sensor] = np.where(
        enough & (n_prev >= spec.min_samples), trend, np.nan
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = (values[:, _DISCHARGE] + ATMOSPHERIC_PSI) / (values[:, _SUCTION] + ATMOSPHERIC_PSI)
        specific = values[:, _HP] / (values[:, _FLOW] / 1000.0)
    out[:, -2] = np.where(np.isfinite(ratio), ratio, np.nan)
    out[:, -1] = np.where(np.isfinite(specific), specific, np.nan)
    return out


def _window_std(column: np.ndarray, start: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Population std of the valid values in rows' windows [start, row], two-pass (exact)."""
    out = np.empty(len(rows))
    longest = int((rows + 1 - start[rows]).max())
    offsets = np.arange(longest)
    step = max(1, (1 << 21) // longest)
    for first in range(0, len(rows), step):
        part = rows[first : first + step]
        positions = start[part, None] + offsets
        values = column[np.minimum(positions, len(column) - 1)]
        usable = (positions <= part[:, None]) & ~np.isnan(values)
        count = np.maximum(usable.sum(axis=1), 1)
        mean = np.where(usable, values, 0.0).sum(axis=1) / count
        deviation = np.where(usable, values - mean[:, None], 0.0)
        out[first : first + step] = np.sqrt((deviation * deviation).sum(axis=1) / count)
    return out


def _separate_series(times: np.ndarray, groups: np.ndarray | None, window: float) -> np.ndarray:
    """Shift each series onto its own stretch of the time axis, so windows never cross."""
    if groups is None or len(times) == 0:
        return times
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    lengths = np.diff(np.r_[starts, len(times)])
    first = np.repeat(times[starts], lengths)
    relative = times - first
    gap = float(relative.max()) + 4 * window + 1.0
    return relative + np.repeat(np.arange(len(starts)) * gap, lengths)


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


def timestamps_s(timestamps: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """Epoch seconds (float64) of a timestamp column."""
    import pyarrow as pa
    import pyarrow.compute as pc

    micros = pc.cast(timestamps, pa.timestamp("us", tz="UTC")).cast(pa.int64())
    return micros.to_numpy(zero_copy_only=False).astype(np.float64) / 1e6


def features_table(table: pa.Table, spec: FeatureSpec | None = None) -> pa.Table:
    """Features for a whole table of readings (any number of compressors).

    Returns `compressor_id`, `timestamp`, `seq` (when present) and one float64
    column per feature, sorted by compressor then timestamp.
    """
    import pyarrow as pa

    spec = spec or FeatureSpec()
    keys = [("compressor_id", "ascending"), ("timestamp", "ascending")]
    if "seq" in table.column_names:
        keys.append(("seq", "ascending"))
    ordered = table.sort_by(keys)
    values = sensor_matrix(ordered)
    times = timestamps_s(ordered.column("timestamp"))
    compressors = ordered.column("compressor_id").to_numpy(zero_copy_only=False)
    groups = np.r_[0, np.cumsum(compressors[1:] != compressors[:-1])] if len(compressors) else None
    result = rolling_features(values, times, spec, groups=groups)
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


class StreamingFeatures:
    """Recent readings of every compressor; `update` gives the features of new ones.

    Keeps the last ``2 * window_s`` seconds per compressor and runs `rolling_features`
    once per update over the windows of all compressors that got readings.
    """

    def __init__(self, spec: FeatureSpec | None = None, *, max_rows: int = 10_000) -> None:
        self.spec = spec or FeatureSpec()
        self.max_rows = max_rows
        self._times: dict[str, np.ndarray] = {}
        self._values: dict[str, np.ndarray] = {}

    def update(self, compressors: list[str], times_s: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Add readings (any compressors, time order within each); return their features."""
        times_s = np.asarray(times_s, dtype=np.float64)
        order: dict[str, list[int]] = {}
        for i, compressor in enumerate(compressors):
            order.setdefault(compressor, []).append(i)
        blocks_t, blocks_v, groups, positions = [], [], [], []
        for g, (compressor, rows) in enumerate(order.items()):
            new_t, new_v = times_s[rows], values[rows]
            old_t = self._times.get(compressor, np.empty(0))
            old_v = self._values.get(compressor, np.empty((0, values.shape[1])))
            if len(old_t) and new_t[0] < old_t[-1]:
                old_t, old_v = old_t[:0], old_v[:0]  # the clock went backwards: start afresh
            all_t = np.concatenate([old_t, new_t])
            all_v = np.concatenate([old_v, new_v])
            # Keep the history the *oldest* new reading needs (two windows before it), and
            # every new row: a poll may bring more than two windows of readings (a backlog,
            # accelerated time). The next update trims what this one kept extra.
            keep = min(
                max(
                    int(np.searchsorted(all_t, new_t[0] - 2 * self.spec.window_s, side="right")),
                    len(all_t) - self.max_rows,
                ),
                len(old_t),
            )
            all_t, all_v = all_t[keep:], all_v[keep:]
            self._times[compressor], self._values[compressor] = all_t, all_v
            blocks_t.append(all_t)
            blocks_v.append(all_v)
            groups.append(np.full(len(all_t), g))
            positions.append((rows, len(all_t) - len(rows)))
        features = rolling_features(
            np.concatenate(blocks_v),
            np.concatenate(blocks_t),
            self.spec,
            groups=np.concatenate(groups),
        )
        result = np.empty((len(compressors), len(FEATURE_NAMES)))
        offset = 0
        for (rows, first_new), block in zip(positions, blocks_t, strict=True):
            result[rows] = features[offset + first_new : offset + len(block)]
            offset += len(block)
        return result

    def window_length(self, compressor: str) -> int:
        return len(self._times.get(compressor, ()))


class FeatureWindow:
    """One compressor's recent readings; `push` returns the features of the newest one."""

    def __init__(self, spec: FeatureSpec | None = None, *, max_rows: int = 10_000) -> None:
        self._stream = StreamingFeatures(spec, max_rows=max_rows)

    def push(self, time_s: float, values: np.ndarray) -> np.ndarray:
        """Add one reading ((6,) float64, NaN where missing) and return its features."""
        row = np.asarray(values, dtype=np.float64).reshape(1, -1)
        return self._stream.update(["c"], np.array([time_s]), row)[0]

    def __len__(self) -> int:
        return self._stream.window_length("c")
