"""Multivariate residual detector: rolling means -> robust z-scores -> Mahalanobis distance.

The score of a row depends only on that row and the readings before it (a window of
`DetectorConfig.window_rows` rows), so the same fitted detector scores a stream at the
edge and a whole file at the hub. Fitting needs numpy only; `models.onnx_graph` turns a
`FittedDetector` into an ONNX graph and `models.runtime` scores it with ONNX Runtime.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace

import numpy as np
from numpy.typing import NDArray

from models.errors import InputDataError

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]


@dataclass(frozen=True)
class DetectorConfig:
    """Hyper-parameters of the detector (defaults were tuned on SKAB; see docs/models.md)."""

    mean_window: int = 5  # rows averaged into one feature vector
    smooth_window: int = 10  # consecutive distances averaged into one score
    trim_fraction: float = 0.25  # share of the most distant fit rows dropped before the refit
    ridge: float = 1e-3  # covariance shrinkage, relative to the mean variance
    threshold_quantile: float = 0.99  # quantile of the fit-row scores ...
    threshold_factor: float = 2.0  # ... times this factor is the alarm threshold
    min_run: int = 1  # consecutive rows above threshold before a row is flagged
    min_fit_rows: int = 30

    @property
    def window_rows(self) -> int:
        """Readings one score needs: the current row and the ones before it."""
        return self.mean_window + self.smooth_window - 1

    def __post_init__(self) -> None:
        if self.mean_window < 1 or self.smooth_window < 1 or self.min_run < 1:
            raise InputDataError("mean_window, smooth_window and min_run must be >= 1")
        if not 0.0 <= self.trim_fraction < 0.9:
            raise InputDataError("trim_fraction must be in [0, 0.9)")
        if not 0.0 < self.threshold_quantile <= 1.0 or self.threshold_factor <= 0:
            raise InputDataError("threshold_quantile must be in (0, 1] and threshold_factor > 0")


@dataclass(frozen=True)
class FittedDetector:
    """Everything needed to score: per-column centre/scale, feature mean, whitening matrix."""

    columns: tuple[str, ...]
    config: DetectorConfig
    center: FloatArray  # per column, raw units (median of the fit rows)
    scale: FloatArray  # per column, raw units (robust spread of the fit rows)
    feature_mean: FloatArray  # mean of the standardized rolling means (trimmed fit rows)
    whitening: FloatArray  # L with L @ L.T = inverse covariance; distance = |(m - mean) @ L|^2
    threshold: float
    fit_rows: int
    extra: dict[str, float] = field(default_factory=dict)

    def summary(self) -> dict[str, object]:
        """A JSON-friendly description (for manifests and logs)."""
        return {
            "columns": list(self.columns),
            "config": asdict(self.config),
            "threshold": self.threshold,
            "fit_rows": self.fit_rows,
            **self.extra,
        }


def robust_scale(values: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Median and IQR/1.349 per column, falling back to the std, then to 1 for constant columns."""
    center = np.median(values, axis=0)
    q75, q25 = np.percentile(values, [75, 25], axis=0)
    spread = (q75 - q25) / 1.349
    std = values.std(axis=0)
    scale = np.where(spread > 0, spread, np.where(std > 0, std, 1.0))
    return center, scale


def rolling_mean(values: FloatArray, window: int) -> FloatArray:
    """Trailing mean over `window` rows; the first rows repeat the first reading as history."""
    padded = np.vstack([np.repeat(values[:1], window - 1, axis=0), values])
    cumulative = np.vstack([np.zeros((1, values.shape[1])), np.cumsum(padded, axis=0)])
    return (cumulative[window:] - cumulative[:-window]) / window


def fit_whitening(features: FloatArray, ridge: float) -> tuple[FloatArray, FloatArray]:
    """Mean and L (L @ L.T = inverse of the ridge-shrunk covariance) of the rows of `features`."""
    mean = features.mean(axis=0)
    cov = np.atleast_2d(np.cov(features - mean, rowvar=False))
    n_features = cov.shape[0]
    cov = cov + ridge * max(float(np.trace(cov)) / n_features, 1e-12) * np.eye(n_features)
    return mean, np.linalg.cholesky(np.linalg.inv(cov))


def trimmed_whitening(
    features: FloatArray, ridge: float, trim_fraction: float
) -> tuple[FloatArray, FloatArray]:
    """`fit_whitening`, refit without the `trim_fraction` most distant rows (0: no refit)."""
    mean, whitening = fit_whitening(features, ridge)
    if trim_fraction > 0:
        distances = mahalanobis_sq(features, mean, whitening)
        keep = distances <= np.quantile(distances, 1.0 - trim_fraction)
        mean, whitening = fit_whitening(features[keep], ridge)
    return mean, whitening


def mahalanobis_sq(features: FloatArray, mean: FloatArray, whitening: FloatArray) -> FloatArray:
    """Squared Mahalanobis distance of each row: |(row - mean) @ L|^2."""
    projected = (features - mean) @ whitening
    return np.einsum("ij,ij->i", projected, projected)


def fit_detector(
    readings: FloatArray, columns: list[str] | tuple[str, ...], config: DetectorConfig
) -> FittedDetector:
    """Fit on rows believed normal (unsupervised; tolerates some contamination via trimming)."""
    readings = np.asarray(readings, dtype=np.float64)
    if readings.ndim != 2 or readings.shape[1] != len(columns) or not columns:
        raise InputDataError("readings must be a 2-D array with one column per name")
    if not np.isfinite(readings).all():
        raise InputDataError("fit readings contain NaN or infinite values; clean them first")
    needed = max(config.min_fit_rows, 3 * len(columns), 2 * config.window_rows)
    if readings.shape[0] < needed:
        raise InputDataError(
            f"{readings.shape[0]} fit rows are too few for {len(columns)} columns (need >= {needed})"
        )
    center, scale = robust_scale(readings)
    for name, std in zip(columns, readings.std(axis=0), strict=True):
        if std == 0:
            logger.warning(
                "column %r is constant in the fit rows; any change will score high", name
            )
    # Rows before a full window are partly padding: leave them out of the fit and threshold.
    features = rolling_mean((readings - center) / scale, config.mean_window)[
        config.mean_window - 1 :
    ]
    mean, whitening = trimmed_whitening(features, config.ridge, config.trim_fraction)
    unfinished = FittedDetector(
        columns=tuple(columns), config=config, center=center, scale=scale,
        feature_mean=mean, whitening=whitening, threshold=float("inf"),
        fit_rows=int(readings.shape[0]),
    )  # fmt: skip
    fit_scores = score_reference(unfinished, readings)[config.window_rows - 1 :]
    threshold = float(np.quantile(fit_scores, config.threshold_quantile)) * config.threshold_factor
    logger.debug("fitted detector on %d rows, threshold %.4g", readings.shape[0], threshold)
    return replace(unfinished, threshold=threshold)


def score_reference(detector: FittedDetector, readings: FloatArray) -> FloatArray:
    """Numpy reference of the ONNX graph: one score per row of a contiguous series."""
    cfg = detector.config
    standardized = (np.asarray(readings, dtype=np.float64) - detector.center) / detector.scale
    features = rolling_mean(standardized, cfg.mean_window)
    # The graph pads raw readings, not distances: pad here the same way for exact parity.
    padded = np.vstack([np.repeat(features[:1], cfg.smooth_window - 1, axis=0), features])
    distances = mahalanobis_sq(padded, detector.feature_mean, detector.whitening)
    return _window_means(distances, cfg.smooth_window)


def _window_means(values: FloatArray, window: int) -> FloatArray:
    """Means of each run of `window` consecutive values (len(values) - window + 1 of them)."""
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    return (cumulative[window:] - cumulative[:-window]) / window
