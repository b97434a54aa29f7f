"""Remaining useful life for the simulator's fault modes: hours to failure with an interval.

The estimate is given only while a degradation is detected — an edge alarm episode
was open in the last 24 h, or the drift forecaster saw a drift — and
is otherwise "no degradation detected", never a number made up from a healthy unit.

Features (hourly, per compressor, all causal): each hourly feature's residual against
the station peers in robust z units of the unit's own reference period; 24 h and
72 h means and a 72 h change of the key ones; the detector's hourly and 24 h peak
score; hours since the degradation was first detected. Three scikit-learn
gradient-boosting models predict the 10 %, 50 % and 90 % quantiles of log(1 + hours
to failure), trained on detected hours of a training run against the truth's
`time_to_failure_s` (hours of detected healthy units count as `cap_hours`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models.errors import InputDataError
from models.hourly import HOURLY_FEATURES

logger = logging.getLogger(__name__)

KEY_SIGNALS = (
    "vibration_mms_mean",
    "discharge_temp_f_mean",
    "gas_flow_mcf_mean",
    "hp_per_mmcfd",
    "horsepower_consumption_std",
)
QUANTILES = (0.1, 0.5, 0.9)


@dataclass(frozen=True)
class RulConfig:
    reference_days: float = 14.0
    cap_hours: float = 720.0
    gate_memory_h: int = 24
    max_iter: int = 200
    learning_rate: float = 0.08
    max_leaf_nodes: int = 15
    min_samples_leaf: int = 40


def rul_features(hourly: pd.DataFrame, config: RulConfig) -> pd.DataFrame:
    """Hourly RUL features; `hourly` has peer residuals, `score_max`, `drifting` per hour."""
    parts = []
    for _, unit in hourly.groupby("compressor_id", sort=True):
        parts.append(_unit_features(unit.sort_values("hour"), config))
    return pd.concat(parts, ignore_index=True) if parts else hourly.iloc[0:0]


def _unit_features(unit: pd.DataFrame, config: RulConfig) -> pd.DataFrame:
    out = unit[["station_id", "compressor_id", "hour"]].copy()
    reference = unit["hour"] < unit["hour"].min() + pd.Timedelta(days=config.reference_days)
    for feature in HOURLY_FEATURES:
        residual = unit[f"{feature}_peer"].fillna(0.0)
        base = residual[reference]
        centre = float(base.median()) if len(base) else 0.0
        spread = float(base.quantile(0.75) - base.quantile(0.25)) / 1.349 if len(base) > 4 else 0.0
        out[f"{feature}_z"] = (residual - centre) / (spread if spread > 0 else 1.0)
    indexed = out.set_index("hour")
    for signal in KEY_SIGNALS:
        z = indexed[f"{signal}_z"]
        day = z.rolling("24h").mean()
        out[f"{signal}_z24"] = day.to_numpy()
        out[f"{signal}_z72"] = z.rolling("72h").mean().to_numpy()
        out[f"{signal}_d72"] = (day - day.shift(freq="48h").reindex(day.index)).fillna(0.0).to_numpy()
    score = unit.set_index("hour")["score_max"].fillna(0.0)
    out["score_max"] = score.to_numpy()
    out["score_24h"] = score.rolling("24h").max().to_numpy()
    memory = f"{config.gate_memory_h}h"
    flags = unit.set_index("hour")[["alarm", "drifting"]].astype(float).fillna(0.0)
    recent = flags.rolling(memory).max().to_numpy()
    out["degrading"] = (recent > 0).any(axis=1)
    out["hours_degrading"] = _hours_since_on(out["hour"], out["degrading"].to_numpy())
    for column in ("time_to_failure_s", "fault_mode", "fault_id"):
        if column in unit.columns:
            out[column] = unit[column].to_numpy()
    return out


def _hours_since_on(hours: pd.Series, on: np.ndarray, *, gap_h: float = 48.0) -> np.ndarray:
    """Hours since the current detected stretch began (stretches part after `gap_h` off)."""
    stamps = hours.map(pd.Timestamp.timestamp).to_numpy() / 3600.0
    since = np.zeros(len(on))
    started: float | None = None
    last_on = -np.inf
    for i, (t, flag) in enumerate(zip(stamps, on, strict=True)):
        if flag:
            if started is None or t - last_on > gap_h:
                started = t
            last_on = t
        elif started is not None and t - last_on > gap_h:
            started = None
        since[i] = 0.0 if started is None else t - started
    return since


def feature_columns() -> list[str]:
    columns = [f"{f}_z" for f in HOURLY_FEATURES]
    for signal in KEY_SIGNALS:
        columns += [f"{signal}_z24", f"{signal}_z72", f"{signal}_d72"]
    return [*columns, "score_max", "score_24h", "hours_degrading"]


def training_target(features: pd.DataFrame, config: RulConfig) -> np.ndarray:
    """Hours to failure from the truth, capped; hours with no fault ahead count as the cap."""
    seconds = features["time_to_failure_s"].astype("float64").to_numpy()
    hours = np.where(np.isfinite(seconds), seconds / 3600.0, config.cap_hours)
    return np.clip(hours, 0.0, config.cap_hours)


@dataclass
class RulModel:
    config: RulConfig
    models: dict[float, object] = field(default_factory=dict)
    training_rows: int = 0


def fit_rul(features: pd.DataFrame, config: RulConfig, *, seed: int = 0) -> RulModel:
    """Quantile models on the detected hours of a labelled run."""
    from sklearn.ensemble import HistGradientBoostingRegressor

    rows = features[features["degrading"]]
    if len(rows) < 200:
        raise InputDataError(f"only {len(rows)} detected degradation hours to train the RUL on")
    x = rows[feature_columns()].to_numpy(dtype=np.float64)
    y = np.log1p(training_target(rows, config))
    model = RulModel(config=config, training_rows=len(rows))
    for q in QUANTILES:
        regressor = HistGradientBoostingRegressor(
            loss="quantile", quantile=q, max_iter=config.max_iter,
            learning_rate=config.learning_rate, max_leaf_nodes=config.max_leaf_nodes,
            min_samples_leaf=config.min_samples_leaf, random_state=seed,
        )  # fmt: skip
        model.models[q] = regressor.fit(x, y)
    return model


@dataclass(frozen=True)
class RulEstimate:
    compressor_id: str
    as_of: pd.Timestamp
    degradation_detected: bool
    hours: float | None = None
    low_hours: float | None = None
    high_hours: float | None = None

    def describe(self) -> str:
        if not self.degradation_detected:
            return f"{self.compressor_id}: no degradation detected"
        return (
            f"{self.compressor_id}: about {self.hours:.0f} h to failure "
            f"(80 % interval {self.low_hours:.0f}-{self.high_hours:.0f} h)"
        )


def predict(model: RulModel, features: pd.DataFrame) -> pd.DataFrame:
    """`rul_h`, `rul_low_h`, `rul_high_h` for detected rows (NaN elsewhere)."""
    out = features[["compressor_id", "hour", "degrading"]].copy()
    for column in ("rul_low_h", "rul_h", "rul_high_h"):
        out[column] = np.nan
    rows = features["degrading"].to_numpy()
    if rows.any():
        x = features.loc[rows, feature_columns()].to_numpy(dtype=np.float64)
        quantiles = [np.expm1(model.models[q].predict(x)) for q in QUANTILES]  # type: ignore[attr-defined]
        stacked = np.sort(np.clip(np.vstack(quantiles), 0.0, model.config.cap_hours), axis=0)
        out.loc[rows, "rul_low_h"], out.loc[rows, "rul_h"], out.loc[rows, "rul_high_h"] = stacked
    return out


def estimate_latest(model: RulModel, features: pd.DataFrame) -> list[RulEstimate]:
    """The estimate of each compressor at its latest hour."""
    latest = features.sort_values("hour").groupby("compressor_id").tail(1)
    predicted = predict(model, latest)
    return [
        RulEstimate(row.compressor_id, row.hour, True, row.rul_h, row.rul_low_h, row.rul_high_h)
        if row.degrading
        else RulEstimate(row.compressor_id, row.hour, False)
        for row in predicted.itertuples(index=False)
    ]
