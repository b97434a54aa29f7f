"""`altaviz-models evaluate`: every compressor model on a simulator run against its ground truth.

The detector and the drift forecaster need no labels: they are walked forward over
the evaluation run itself (retrained on schedule from what the hub would have had).
The RUL model needs labels: it is trained on a separate training run (another seed
and season) and scored on the evaluation run.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

from models.anomaly import AnomalyConfig
from models.drift import DriftConfig, DriftLimits
from models.errors import InputDataError
from models.fleet_runs import FleetRun, open_run
from models.pipeline import PreparedRun, prepare_run
from models.reporting import detection_lines, detection_reports, drift_forecast_lines, rul_lines
from models.rul import RulConfig, fit_rul, predict, rul_features
from models.training_policy import TrainingPolicy

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EvaluationSetup:
    anomaly: AnomalyConfig = field(default_factory=AnomalyConfig)
    policy: TrainingPolicy = field(default_factory=TrainingPolicy)
    drift: DriftConfig = field(default_factory=DriftConfig)
    limits: DriftLimits = field(default_factory=DriftLimits)
    rul: RulConfig = field(default_factory=RulConfig)


def _prepare(run: FleetRun, setup: EvaluationSetup) -> PreparedRun:
    return prepare_run(
        run, anomaly=setup.anomaly, policy=setup.policy, drift=setup.drift, limits=setup.limits
    )


def _describe(run: FleetRun, role: str) -> str:
    faults = run.events.equipment_faults
    units = run.manifest.get("fleet", {}).get("compressor_count", "?")
    return (
        f"{role}: {run.path} ({run.manifest.get('scenario', {}).get('name', '?')}, seed "
        f"{run.manifest.get('seed')}, {run.start:%Y-%m-%d} .. {run.end:%Y-%m-%d}, "
        f"{units} compressors, {len(faults)} equipment faults)"
    )


def _check_disjoint(training: FleetRun, evaluation: FleetRun) -> None:
    """The RUL model must not train on any instant it is evaluated on."""
    if training.start < evaluation.end and evaluation.start < training.end:
        raise InputDataError(
            f"the training run ({training.start:%Y-%m-%d} .. {training.end:%Y-%m-%d}) overlaps "
            f"the evaluation run ({evaluation.start:%Y-%m-%d} .. {evaluation.end:%Y-%m-%d}): "
            "use a training run from another period"
        )


def run_evaluation(
    eval_dir: Path,
    train_dir: Path | None,
    setup: EvaluationSetup,
) -> list[str]:
    started = time.monotonic()
    evaluation = open_run(eval_dir)
    lines = [_describe(evaluation, "evaluation run")]
    prepared = _prepare(evaluation, setup)
    walk = prepared.walk
    lines.append(
        f"holdout: {len(walk.models)} detector models, retrained every "
        f"{setup.policy.retrain_every_days:g} d, each scoring only the days after its training "
        f"rows (gap >= {walk.min_holdout_gap_h * 60:.0f} min; the first {setup.policy.reference_days:g} "
        "days are training only)"
    )
    lines += detection_lines(detection_reports(prepared, sensor_grace_s=setup.anomaly.window_s))
    lines += drift_forecast_lines(prepared, setup.limits)
    if train_dir is None:
        lines.append("RUL estimator: not evaluated (no --train-run)")
    else:
        training = open_run(train_dir)
        _check_disjoint(training, evaluation)
        lines.append(
            _describe(training, "RUL training run (disjoint in time from the evaluation run)")
        )
        train_features = rul_features(_prepare(training, setup).hourly, setup.rul)
        model = fit_rul(train_features, setup.rul)
        features = rul_features(prepared.hourly, setup.rul)
        predicted = predict(model, features).assign(fault_mode=features["fault_mode"].to_numpy())
        seconds = features["time_to_failure_s"].astype("float64").to_numpy()
        lines += rul_lines(predicted, seconds / 3600.0, setup.rul.cap_hours)
        lines.append(f"  trained on {model.training_rows} detected hours")
    # The emissions estimator moved to the hub's compliance package (models/ never imports the hub).
    lines.append(
        f"Emissions estimator: altaviz-hub compliance check-run --run {eval_dir} --fleet FLEET"
    )
    lines.append(f"(evaluation took {time.monotonic() - started:.0f} s)")
    return lines
