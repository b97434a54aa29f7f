"""Compressor anomaly detector: one robust Mahalanobis baseline per compressor, running rows only.

The phase-1 residual detector (models/detector.py) applied to the shared features:
each compressor gets its own robust centre and scale, trimmed mean and whitening
matrix, fit on its own running rows, and its own threshold (a quantile of its fit
scores times a factor). The score of a row is its squared Mahalanobis distance
divided by that compressor's threshold, so 1.0 is the alarm level for every unit
and a healthy unit unlike the others is judged against itself, never the fleet.
A compressor without a baseline is not scored at all (not "anomalous").
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from models.detector import robust_scale, trimmed_whitening
from models.errors import InputDataError
from shared.features import FEATURE_NAMES, FEATURE_SET_VERSION
from shared.schema import OperatingState

logger = logging.getLogger(__name__)

FloatArray = NDArray[np.float64]

#: Ten-minute means of the six sensors, the two physics ratios, and the horsepower spread.
DEFAULT_FEATURES: tuple[str, ...] = (
    "vibration_mms_mean",
    "discharge_temp_f_mean",
    "suction_pressure_psi_mean",
    "discharge_pressure_psi_mean",
    "horsepower_consumption_mean",
    "gas_flow_mcf_mean",
    "pressure_ratio",
    "hp_per_mmcfd",
    "horsepower_consumption_std",
)


@dataclass(frozen=True)
class AnomalyConfig:
    """Hyper-parameters of the compressor detector (chosen on a tuning run; docs/models.md)."""

    features: tuple[str, ...] = DEFAULT_FEATURES
    window_s: float = 600.0  # rolling window of the shared features
    min_samples: int = 5
    scored_states: tuple[str, ...] = (OperatingState.RUNNING,)
    trim_fraction: float = 0.25
    ridge: float = 1e-3
    threshold_quantile: float = 0.99
    threshold_factor: float = 2.0
    #: An alarm opens after this long above 1.0 and closes after this long at or below clear_at.
    persistence_s: float = 1800.0
    clear_s: float = 1800.0
    clear_at: float = 1.0
    min_fit_rows: int = 720
    #: Rows beyond this are thinned evenly in time before a baseline is fit (speed, not accuracy).
    max_fit_rows: int = 20000

    def __post_init__(self) -> None:
        unknown = [f for f in self.features if f not in FEATURE_NAMES]
        if unknown:
            raise InputDataError(f"unknown feature(s) {unknown}; see shared.features")
        if not 0 <= self.trim_fraction < 0.9 or self.threshold_factor <= 0:
            raise InputDataError("trim_fraction must be in [0, 0.9) and threshold_factor > 0")

    def readings_for(self, seconds: float, interval_s: float) -> int:
        """Consecutive readings that span `seconds` at one reading per `interval_s`."""
        return max(1, round(seconds / interval_s))


@dataclass(frozen=True)
class CompressorBaseline:
    """One compressor's normal: robust centre/scale, trimmed mean, whitening, threshold."""

    center: FloatArray
    scale: FloatArray
    mean: FloatArray
    whitening: FloatArray
    threshold: float  # squared distance that scores 1.0
    conditional_threshold: float  # largest squared conditional residual that scores 1.0
    fit_rows: int

    @property
    def precision(self) -> FloatArray:
        return self.whitening @ self.whitening.T

    def deviation(self, features: FloatArray) -> FloatArray:
        return (features - self.center) / self.scale - self.mean

    def distances(self, features: FloatArray) -> FloatArray:
        projected = self.deviation(features) @ self.whitening
        return np.einsum("ij,ij->i", projected, projected)

    def conditional_residuals(self, features: FloatArray) -> FloatArray:
        """Each input's deviation from what the other inputs predict, in its own std units."""
        precision = self.precision
        return (self.deviation(features) @ precision) / np.sqrt(np.diag(precision))

    def scores(self, features: FloatArray) -> FloatArray:
        """max(distance / threshold, largest squared conditional residual / its threshold)."""
        joint = self.distances(features) / self.threshold
        single = (self.conditional_residuals(features) ** 2).max(axis=1)
        return np.maximum(joint, single / self.conditional_threshold)


@dataclass(frozen=True)
class FleetAnomalyModel:
    """Baselines by compressor id, the config, and what the model was trained on."""

    config: AnomalyConfig
    baselines: dict[str, CompressorBaseline]
    data_from: str
    data_to: str
    training_rows: int
    stations: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)

    @property
    def compressors(self) -> list[str]:
        """Compressor ids in the order of the ONNX graph's baseline tables."""
        return sorted(self.baselines)

    def summary(self) -> dict[str, object]:
        return {
            "config": asdict(self.config),
            "compressors": self.compressors,
            "data_from": self.data_from,
            "data_to": self.data_to,
            "training_rows": self.training_rows,
            "feature_set_version": FEATURE_SET_VERSION,
        }


def fit_baseline(features: FloatArray, config: AnomalyConfig) -> CompressorBaseline:
    """Fit one compressor's baseline on its normal running rows (finite, float64)."""
    if len(features) < max(config.min_fit_rows, 3 * features.shape[1]):
        raise InputDataError(f"{len(features)} rows are too few to fit a baseline")
    if len(features) > config.max_fit_rows:
        features = features[np.linspace(0, len(features) - 1, config.max_fit_rows).astype(int)]
    center, scale = robust_scale(features)
    standardized = (features - center) / scale
    mean, whitening = trimmed_whitening(standardized, config.ridge, config.trim_fraction)
    unfinished = CompressorBaseline(
        center=center, scale=scale, mean=mean, whitening=whitening,
        threshold=1.0, conditional_threshold=1.0, fit_rows=len(features),
    )  # fmt: skip
    joint = unfinished.distances(features)
    single = (unfinished.conditional_residuals(features) ** 2).max(axis=1)
    q, factor = config.threshold_quantile, config.threshold_factor
    return replace(
        unfinished,
        threshold=max(float(np.quantile(joint, q)) * factor, 1e-9),
        conditional_threshold=max(float(np.quantile(single, q)) * factor, 1e-9),
    )


def model_inputs(frame: pd.DataFrame, config: AnomalyConfig) -> FloatArray:
    """The model's input columns as the edge feeds them (float64, the graph's input type)."""
    return frame[list(config.features)].to_numpy(dtype=np.float64)


def scorable(frame: pd.DataFrame, config: AnomalyConfig, inputs: FloatArray) -> NDArray[np.bool_]:
    """Rows the detector scores: a scored operating state and every input finite."""
    in_state = frame["operating_state"].isin(config.scored_states).to_numpy()
    return in_state & np.isfinite(inputs).all(axis=1)


def compressor_slices(frame: pd.DataFrame) -> dict[str, slice]:
    """Row range of each compressor in a frame sorted by compressor (as feature_frame returns)."""
    compressors = frame["compressor_id"].to_numpy()
    if len(compressors) == 0:
        return {}
    starts = np.flatnonzero(np.r_[True, compressors[1:] != compressors[:-1]])
    ends = np.r_[starts[1:], len(compressors)]
    slices = {str(compressors[a]): slice(int(a), int(b)) for a, b in zip(starts, ends, strict=True)}
    if len(slices) != len(starts):
        raise InputDataError("the feature frame is not sorted by compressor")
    return slices


def fit_fleet_model(
    frame: pd.DataFrame,
    config: AnomalyConfig,
    *,
    train_mask: NDArray[np.bool_] | None = None,
    previous: FleetAnomalyModel | None = None,
    inputs: FloatArray | None = None,
) -> FleetAnomalyModel:
    """A baseline per compressor from the rows `train_mask` selects (running, finite).

    A compressor with too few rows keeps its baseline from `previous` (if any);
    a compressor with none is left out and will not be scored.
    """
    inputs = model_inputs(frame, config) if inputs is None else inputs
    usable = scorable(frame, config, inputs)
    if train_mask is not None:
        usable &= train_mask
    baselines: dict[str, CompressorBaseline] = {}
    rows = 0
    for compressor, part in compressor_slices(frame).items():
        selected = usable[part]
        try:
            baselines[compressor] = fit_baseline(inputs[part][selected], config)
            rows += int(selected.sum())
        except InputDataError:
            if previous is not None and compressor in previous.baselines:
                baselines[compressor] = previous.baselines[compressor]
                logger.info("%s: too few rows to refit; keeping its previous baseline", compressor)
            else:
                logger.warning("%s: too few normal running rows; not scored", compressor)
    if not baselines:
        raise InputDataError("no compressor has enough normal running rows to fit a baseline")
    times = frame.loc[usable, "timestamp"]
    return FleetAnomalyModel(
        config=config,
        baselines=baselines,
        data_from=times.min().isoformat() if len(times) else "",
        data_to=times.max().isoformat() if len(times) else "",
        training_rows=rows,
        stations=tuple(sorted(frame["station_id"].unique())),
    )


def score_frame(model: FleetAnomalyModel, frame: pd.DataFrame) -> FloatArray:
    """Numpy reference score of every row (NaN where the edge would not score it)."""
    inputs = model_inputs(frame, model.config)
    usable = scorable(frame, model.config, inputs)
    scores = np.full(len(frame), np.nan)
    for compressor, part in compressor_slices(frame).items():
        baseline = model.baselines.get(compressor)
        rows = np.flatnonzero(usable[part]) + part.start
        if baseline is not None and len(rows):
            scores[rows] = baseline.scores(inputs[rows])
    return scores
