"""The C-MAPSS RUL model: a linear health index of the raw sensors plus gradient-boosted trees.

The health index is a least-squares fit of the capped, scaled RUL on the raw sensor values of
the training rows (one number per cycle). Its causal smoothings — means, EWMAs, slopes over
5 to 100 cycles and over the whole series so far, drift from the engine's baseline — are
added to the per-sensor features; the trees see both. Everything that is fitted (the index's
coefficients, the trees) is fitted on training rows only, so in cross-validation the index of
a held-out engine comes from coefficients it did not influence.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import LinearRegression

from models.cmapss_data import RUL_CAP
from models.cmapss_features import index_features


def make_regressor(seed: int) -> HistGradientBoostingRegressor:
    """The trees: scikit-learn gradient boosting on per-sensor and health-index features."""
    return HistGradientBoostingRegressor(
        max_iter=300,
        learning_rate=0.05,
        max_leaf_nodes=15,
        min_samples_leaf=50,
        l2_regularization=1.0,
        random_state=seed,
    )


class HealthIndex:
    """Linear map from raw sensor values to capped RUL / cap (≈ 1 healthy, 0 at failure)."""

    def __init__(self, sensors: list[str], cap: int) -> None:
        self.sensors = sensors
        self.cap = cap
        self.coef = np.zeros(len(sensors))
        self.intercept = 0.0

    def fit(self, frame: pd.DataFrame, rul: np.ndarray) -> HealthIndex:
        raw = frame[self.sensors].to_numpy(dtype=np.float64)
        mean, std = raw.mean(axis=0), raw.std(axis=0)
        std[std == 0] = 1.0
        target = np.minimum(rul, self.cap) / self.cap
        fitted = LinearRegression().fit((raw - mean) / std, target)
        self.coef = fitted.coef_ / std
        self.intercept = float(fitted.intercept_ - mean @ self.coef)
        return self

    def index(self, frame: pd.DataFrame) -> np.ndarray:
        return frame[self.sensors].to_numpy(dtype=np.float64) @ self.coef + self.intercept


class RulModel:
    """Health index + trees, trained on every cycle with the RUL target capped at `cap`."""

    def __init__(self, sensors: list[str], *, cap: int = RUL_CAP, seed: int = 0) -> None:
        self.cap = cap
        self.health = HealthIndex(sensors, cap)
        self.trees = make_regressor(seed)

    def _inputs(self, frame: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        index = index_features(frame["unit"].to_numpy(), self.health.index(frame))
        return np.hstack([features.to_numpy(dtype=np.float64), index.to_numpy()])

    def fit(self, frame: pd.DataFrame, features: pd.DataFrame, rul: np.ndarray) -> RulModel:
        """`features` = `build_features(frame, sensors)`; `rul` = true RUL of each row."""
        self.health.fit(frame, rul)
        self.trees.fit(self._inputs(frame, features), np.minimum(rul, self.cap))
        return self

    def predict(self, frame: pd.DataFrame, features: pd.DataFrame) -> np.ndarray:
        """Predicted RUL of every row (clipped at 0)."""
        return np.clip(self.trees.predict(self._inputs(frame, features)), 0, None)
