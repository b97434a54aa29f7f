"""One run through every compressor model: features, walk-forward detector, hourly view, drift.

`prepare_run` turns a simulator run directory into what the evaluation and the RUL
training need; the hub runs the same steps on gold data (hub/models_lifecycle).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd

from models.anomaly import AnomalyConfig
from models.compressor_features import attach_truth, feature_frame
from models.drift import DriftConfig, DriftForecast, DriftLimits, forecast_series
from models.episodes import Episode, episode_mask
from models.evaluation import WalkForward, alarm_episodes, walk_forward
from models.fleet_runs import FleetRun
from models.hourly import hourly_aggregates, peer_residuals
from models.training_policy import TrainingPolicy
from shared.features import FeatureSpec

logger = logging.getLogger(__name__)

TRUTH_FOR_MODELS = ("compressor_id", "timestamp", "fault_id", "fault_mode", "time_to_failure_s")
TRUTH_HOURLY = {"fault_id": "first", "fault_mode": "first", "time_to_failure_s": "min"}
DRIFT_EVERY_H = 6.0


@dataclass
class PreparedRun:
    run: FleetRun
    frame: pd.DataFrame
    walk: WalkForward
    edge_episodes: list[Episode]
    hourly: pd.DataFrame
    drift: list[DriftForecast]


def prepare_run(
    run: FleetRun,
    *,
    anomaly: AnomalyConfig,
    policy: TrainingPolicy,
    drift: DriftConfig,
    limits: DriftLimits,
) -> PreparedRun:
    spec = FeatureSpec(window_s=anomaly.window_s, min_samples=anomaly.min_samples)
    logger.info("%s: features", run.path)
    frame = feature_frame(run.readings(), spec)
    frame = attach_truth(frame, run.truth(columns=TRUTH_FOR_MODELS))
    logger.info("%s: walk-forward detector", run.path)
    walk = walk_forward(frame, run.events, anomaly, policy)
    episodes = alarm_episodes(frame, walk.scores, anomaly, run.resolution_s)
    logger.info("%s: hourly view and drift", run.path)
    hourly, forecasts = hourly_view(
        frame, walk.scores, episodes, interval_s=run.resolution_s, drift=drift, limits=limits
    )
    return PreparedRun(run, frame, walk, episodes, hourly, forecasts)


def hourly_view(
    frame: pd.DataFrame,
    scores: np.ndarray,
    episodes: list[Episode],
    *,
    interval_s: float,
    drift: DriftConfig,
    limits: DriftLimits,
) -> tuple[pd.DataFrame, list[DriftForecast]]:
    """Hourly aggregates with peer residuals, detector score and alarm, and drift flags."""
    truth = {c: how for c, how in TRUTH_HOURLY.items() if c in frame.columns}
    hourly = hourly_aggregates(
        frame.assign(score_max=scores, alarm=episode_mask(frame, episodes)),
        interval_s=interval_s,
        extra={"score_max": "max", "alarm": "max", **truth},
    )
    hourly = peer_residuals(hourly)
    forecasts = forecast_series(hourly, every_h=DRIFT_EVERY_H, config=drift, limits=limits)
    return attach_drift(hourly, forecasts), forecasts


def attach_drift(hourly: pd.DataFrame, forecasts: list[DriftForecast]) -> pd.DataFrame:
    """`drifting`: the latest drift forecast at or before each hour (as the hub would know it)."""
    if not forecasts:
        return hourly.assign(drifting=False)
    flags = pd.DataFrame(
        {
            "compressor_id": [f.compressor_id for f in forecasts],
            "hour": [f.as_of for f in forecasts],
            "drifting": [f.drifting for f in forecasts],
        }
    ).sort_values("hour")
    flags["hour"] = flags["hour"].astype(hourly["hour"].dtype)
    merged = pd.merge_asof(
        hourly.sort_values("hour"), flags, on="hour", by="compressor_id", direction="backward"
    )
    merged["drifting"] = merged["drifting"].astype("boolean").fillna(False).astype(bool)
    return merged.sort_values(["compressor_id", "hour"]).reset_index(drop=True)


def _rate(forecast: DriftForecast) -> float:
    return float(forecast.rate_f_per_day) if forecast.rate_f_per_day is not None else float("nan")


def drift_episodes(forecasts: list[DriftForecast]) -> list[Episode]:
    """Contiguous drifting forecasts of a compressor as one episode (the hub's drift alert)."""
    episodes: list[Episode] = []
    by_unit: dict[str, list[DriftForecast]] = {}
    for forecast in forecasts:
        by_unit.setdefault(forecast.compressor_id, []).append(forecast)
    for unit, items in by_unit.items():
        items.sort(key=lambda f: f.as_of)
        opened: DriftForecast | None = None
        for forecast in items:
            if forecast.drifting and opened is None:
                opened = forecast
            elif not forecast.drifting and opened is not None:
                episodes.append(Episode(unit, opened.as_of, forecast.as_of, _rate(opened)))
                opened = None
        if opened is not None:
            episodes.append(Episode(unit, opened.as_of, None, _rate(opened)))
    return episodes
