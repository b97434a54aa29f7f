"""Train a challenger detector, compare it with the champion, register it (signed).

Training data comes through one function, `load_training_data`: from the lakehouse
(silver readings thinned in Spark, then pandas; failures from the maintenance log) or,
before a lakehouse has history, from a simulator run directory (Parquet).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from hub.models_lifecycle.champion import Decision, decide, holdout_result
from hub.models_lifecycle.registry import ModelRegistry, RegisteredModel
from models.anomaly import AnomalyConfig, FleetAnomalyModel, fit_fleet_model, model_inputs
from models.anomaly_onnx import export_bytes
from models.anomaly_runtime import FleetOnnxScorer
from models.bundles import ANOMALY_MODEL_ID, ONNX_FILE, build_anomaly_bundle, new_version
from models.compressor_features import epoch_seconds, feature_frame
from models.errors import InputDataError
from models.fleet_runs import LabelledEvents, open_run
from models.training_policy import DAY_S, TrainingPolicy, training_mask
from shared.bundle import read_archive
from shared.features import FeatureSpec

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from hub.settings import HubSettings

log = logging.getLogger(__name__)

HOLDOUT_DAYS = 14.0


@dataclass(frozen=True)
class TrainingSource:
    """Where training data comes from: a simulator run directory, or the lakehouse."""

    run_dir: Path | None = None
    lake_days: float | None = None  # with no run_dir: this many days of silver up to now

    def describe(self) -> str:
        return (
            f"simulator run {self.run_dir}"
            if self.run_dir
            else f"lakehouse, last {self.lake_days:g} days"
        )


@dataclass
class TrainingData:
    frame: pd.DataFrame
    events: LabelledEvents
    interval_s: float
    description: str

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(float(epoch_seconds(self.frame).max()), unit="s", tz="UTC")


def load_training_data(
    source: TrainingSource,
    *,
    config: AnomalyConfig,
    settings: HubSettings | None = None,
    org_id: str | None = None,
    spark=None,  # type: ignore[no-untyped-def]
) -> TrainingData:
    """Readings -> the shared features, with the labelled failures the hub knows of."""
    spec = FeatureSpec(window_s=config.window_s, min_samples=config.min_samples)
    if source.run_dir is not None:
        run = open_run(source.run_dir)
        return TrainingData(
            feature_frame(run.readings(), spec), run.events, run.resolution_s, source.describe()
        )
    if settings is None or org_id is None or spark is None or source.lake_days is None:
        raise InputDataError("training from the lakehouse needs hub settings, an org and Spark")
    from hub.db.session import make_engine
    from hub.models_lifecycle.lake_data import maintenance_failures, silver_training_readings

    end = datetime.now(UTC)
    readings = silver_training_readings(
        spark,
        settings.lake_root,
        org_id=org_id,
        start=end - timedelta(days=source.lake_days),
        end=end,
    )
    events = maintenance_failures(
        make_engine(settings.database_url),
        org_id=org_id,
        lookback_days=TrainingPolicy().event_lookback_days,
    )
    return TrainingData(feature_frame(readings, spec), events, 60.0, source.describe())


def champion_onnx(model: RegisteredModel) -> bytes:
    return read_archive(model.bundle_path.read_bytes())[ONNX_FILE]


def train_challenger(
    data: TrainingData,
    *,
    as_of: pd.Timestamp,
    config: AnomalyConfig,
    policy: TrainingPolicy,
    champion: bytes | None,
) -> FleetAnomalyModel:
    """Fit on what the policy allows as of `as_of` (rows the champion alarmed on left out)."""
    times = epoch_seconds(data.frame)
    champion_scores = None
    if champion is not None:
        champion_scores = FleetOnnxScorer(champion).score(
            model_inputs(data.frame, config),
            data.frame["compressor_id"].to_numpy(),
            data.frame["operating_state"].to_numpy(),
        )
    mask = training_mask(
        data.frame,
        as_of_s=as_of.timestamp(),
        first_s=float(np.floor(times.min() / DAY_S) * DAY_S),
        faults=data.events.known_failures(as_of),
        champion_scores=champion_scores,
        alarm_level=config.clear_at,
        policy=policy,
    )
    return fit_fleet_model(data.frame, config, train_mask=mask)


def _unique_version(registry: ModelRegistry, model_id: str) -> str:
    taken = {v.version for v in registry.versions(model_id)}
    version, n = new_version(), 1
    while version in taken:
        version, n = f"{new_version()}-{n}", n + 1
    return version


@dataclass(frozen=True)
class TrainingOutcome:
    registered: RegisteredModel
    decision: Decision


def train_and_register(
    data: TrainingData,
    registry: ModelRegistry,
    *,
    signing_key: Ed25519PrivateKey,
    reading_interval_s: float,
    as_of: pd.Timestamp | None = None,
    config: AnomalyConfig | None = None,
    policy: TrainingPolicy | None = None,
    model_id: str = ANOMALY_MODEL_ID,
    max_false_alarm_increase: float = 0.0,
) -> TrainingOutcome:
    """Train, compare on held-out days and labelled events, and register (candidate or rejected)."""
    config = config or AnomalyConfig()
    policy = policy or TrainingPolicy()
    as_of = as_of or data.end
    champion = registry.champion(model_id)
    champion_bytes = champion_onnx(champion) if champion is not None else None
    model = train_challenger(
        data, as_of=as_of, config=config, policy=policy, champion=champion_bytes
    )
    first_s = float(np.floor(epoch_seconds(data.frame).min() / DAY_S) * DAY_S)
    _, trained_to_s = policy.window_s(first_s, as_of.timestamp())
    # Held out: days the challenger never trained on (at most HOLDOUT_DAYS of them).
    holdout_from = max(
        as_of - pd.Timedelta(days=HOLDOUT_DAYS), pd.Timestamp(trained_to_s, unit="s", tz="UTC")
    )
    if holdout_from >= as_of:
        raise InputDataError("no held-out days after the training window: need more data")
    holdout = {
        "holdout_from": holdout_from,
        "holdout_to": as_of,
        "config": config,
        "interval_s": data.interval_s,
    }
    challenger_result = holdout_result(export_bytes(model), data.frame, data.events, **holdout)  # type: ignore[arg-type]
    champion_result = (
        holdout_result(champion_bytes, data.frame, data.events, **holdout)  # type: ignore[arg-type]
        if champion_bytes is not None
        else None
    )
    decision = decide(
        challenger_result, champion_result, max_false_alarm_increase=max_false_alarm_increase
    )
    manifest, signature, archive = build_anomaly_bundle(
        model,
        version=_unique_version(registry, model_id),
        signing_key=signing_key,
        reading_interval_s=reading_interval_s,
        metrics=challenger_result.as_metrics(),
        model_id=model_id,
    )
    registered = registry.register(
        manifest=manifest,
        signature=signature,
        archive=archive,
        kind="anomaly",
        evaluation={
            "data": data.description,
            "as_of": as_of.isoformat(),
            "decision": decision.lines(),
            "challenger": challenger_result.as_metrics(""),
            "champion": champion_result.as_metrics("") if champion_result else None,
            "champion_version": champion.version if champion else None,
        },
        status="candidate" if decision.offer else "rejected",
        notes="; ".join(decision.reasons),
    )
    log.info("registered %s@%s (%s)", model_id, manifest.version, registered.status)
    return TrainingOutcome(registered, decision)
