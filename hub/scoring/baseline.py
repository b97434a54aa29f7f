"""A baseline set of models for a fleet with no history yet (the demo): trained on simulated history.

`train_baseline` simulates a labelled training history of the fleet (the simulator,
scripted faults of every mode on several units, another seed than the demo, the 27 days
before `history_end` so that the season matches what the fleet will run in),
computes the shared features, and fits:

- the anomaly detector (models/anomaly.py) on the healthy days before the first fault,
  exported as the ONNX bundle the stations run;
- the RUL estimator (models/rul.py) on the hourly view of the whole run, labelled by the
  simulator's truth;
- the drift forecaster's settings (models/drift.py) with the limits of config/thresholds.yaml.

`ensure_baseline` registers the three as champions (signed, in the registry) unless the
org already has champions, caching the trained files under `cache_dir` so a restart
does not train again. Publishing the detector to the stations is the rollout's job
(hub.models_lifecycle.rollout), done by `hub.scoring.demo.publish_baseline`.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hub.models_lifecycle.registry import ModelRegistry, RegisteredModel
from hub.scoring.bundles import (
    DRIFT_MODEL_ID,
    RUL_MODEL_ID,
    build_drift_bundle,
    build_rul_bundle,
)
from models.anomaly import AnomalyConfig, fit_fleet_model, model_inputs
from models.anomaly_onnx import export_bytes
from models.anomaly_runtime import FleetOnnxScorer
from models.bundles import ANOMALY_MODEL_ID, build_anomaly_bundle
from models.compressor_features import attach_truth, epoch_seconds, feature_frame
from models.drift import DriftConfig, DriftLimits
from models.evaluation import alarm_episodes
from models.fleet_runs import open_run
from models.pipeline import TRUTH_FOR_MODELS, hourly_view
from models.rul import RulConfig, fit_rul, rul_features
from shared.bundle import TrainingInfo, parse_manifest, read_archive
from shared.features import FeatureSpec
from shared.fleet import load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import Scenario, load_scenario_data, parse_duration

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = logging.getLogger(__name__)

#: Healthy days the detector fits on, before the first scripted fault.
HEALTHY_DAYS = 9
#: The training history: every fault mode on some unit, onsets 9-21 days in, all repaired.
TRAINING_SCENARIO: dict[str, Any] = {
    "name": "baseline-training",
    "description": "Labelled history for the baseline models: one fault of each mode, repaired.",
    "seed": 2031,
    "duration": "27d",
    "resolution_s": 60,
    "equipment_faults": [
        {"compressor": "COMP-001", "mode": "valve_leak", "onset": "+9d", "failure": "+12d8h", "repair": "+13d"},
        {"compressor": "COMP-004", "mode": "cooler_fouling", "onset": "+10d", "failure": "+16d", "repair": "+17d"},
        {"compressor": "COMP-006", "mode": "bearing_wear", "onset": "+12d", "failure": "+16d12h", "repair": "+17d"},
        {"compressor": "COMP-009", "mode": "valve_leak", "onset": "+16d", "failure": "+19d4h", "repair": "+20d"},
        {"compressor": "COMP-002", "mode": "rod_packing_leak", "onset": "+18d", "failure": "+22d", "repair": "+23d"},
        {"compressor": "COMP-008", "mode": "driver_problem", "onset": "+21d", "failure": "+24d6h", "repair": "+25d"},
    ],
}  # fmt: skip
#: The demo's drift forecaster looks back three days (a 7-day story has no 7-day window).
DEMO_DRIFT = DriftConfig(window_days=3.0)


@dataclass(frozen=True)
class Bundle:
    """A signed bundle ready for the registry."""

    kind: str
    manifest: Any
    signature: bytes
    archive: bytes


def training_scenario(history_end: datetime) -> Scenario:
    """The training history's scenario, ending at `history_end` (whole minutes)."""
    end = history_end.astimezone(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(seconds=parse_duration(TRAINING_SCENARIO["duration"]))
    return load_scenario_data(
        {**TRAINING_SCENARIO, "start": start.isoformat()}, source="baseline training scenario"
    )


def simulate_history(fleet_path: Path, out_dir: Path, *, history_end: datetime) -> Path:
    """The training history under `out_dir` (kept: a second call reuses it)."""
    if (out_dir / "run.json").exists():
        return out_dir
    scenario = training_scenario(history_end)
    write_history(Simulation(load_fleet(fleet_path), scenario), out_dir, force=True)
    return out_dir


def train_baseline(
    run_dir: Path,
    *,
    signing_key: Ed25519PrivateKey,
    version: str,
    reading_interval_s: float,
    limits: DriftLimits,
    drift: DriftConfig = DEMO_DRIFT,
) -> list[Bundle]:
    """Fit the three models on a simulated run; return their signed bundles."""
    started = time.monotonic()
    run = open_run(run_dir)
    config = AnomalyConfig()
    spec = FeatureSpec(window_s=config.window_s, min_samples=config.min_samples)
    frame = attach_truth(feature_frame(run.readings(), spec), run.truth(columns=TRUTH_FOR_MODELS))
    times = epoch_seconds(frame)
    healthy = times < times.min() + HEALTHY_DAYS * 86400.0
    detector = fit_fleet_model(frame, config, train_mask=healthy)
    onnx_bytes = export_bytes(detector)
    scores = FleetOnnxScorer(onnx_bytes).score(
        model_inputs(frame, config),
        frame["compressor_id"].to_numpy(),
        frame["operating_state"].to_numpy(),
    )
    episodes = alarm_episodes(frame, scores, config, run.resolution_s)
    hourly, _ = hourly_view(
        frame, scores, episodes, interval_s=run.resolution_s, drift=drift, limits=limits
    )
    rul_config = RulConfig(reference_days=float(HEALTHY_DAYS))
    rul = fit_rul(rul_features(hourly, rul_config), rul_config)
    training = TrainingInfo(
        data_from=run.start.isoformat(),
        data_to=run.end.isoformat(),
        rows=len(frame),
        stations=sorted(frame["station_id"].unique()),
        source="simulated baseline history",
    )
    bundles = [
        Bundle("anomaly", *build_anomaly_bundle(
            detector, version=version, signing_key=signing_key,
            reading_interval_s=reading_interval_s,
            metrics={"training_days": float(HEALTHY_DAYS)},
        )),
        Bundle("rul", *build_rul_bundle(
            rul, version=version, signing_key=signing_key, training=training
        )),
        Bundle("temp_forecast", *build_drift_bundle(
            drift, limits, version=version, signing_key=signing_key, training=training
        )),
    ]  # fmt: skip
    log.info(
        "baseline models trained on %d readings in %.1f s (%d RUL hours, %d alarm episodes)",
        len(frame), time.monotonic() - started, rul.training_rows, len(episodes),
    )  # fmt: skip
    return bundles


def _cached(cache_dir: Path) -> list[Bundle] | None:
    found = []
    for kind in ("anomaly", "rul", "temp_forecast"):
        path = cache_dir / f"{kind}.tar"
        if not path.exists():
            return None
        archive = path.read_bytes()
        members = read_archive(archive)
        found.append(
            Bundle(kind, parse_manifest(members["manifest.json"]), members["manifest.sig"], archive)
        )
    return found


def ensure_baseline(
    registry: ModelRegistry,
    *,
    fleet_path: Path,
    cache_dir: Path,
    signing_key: Ed25519PrivateKey,
    reading_interval_s: float,
    limits: DriftLimits,
    history_end: datetime | None = None,
) -> dict[str, RegisteredModel]:
    """Champions of the three models: those registered, else the (cached) baseline, registered.

    The baseline trains on simulated days before `history_end` (default: now).
    """
    model_ids = {"anomaly": ANOMALY_MODEL_ID, "rul": RUL_MODEL_ID, "temp_forecast": DRIFT_MODEL_ID}
    champions = {kind: registry.champion(model_id) for kind, model_id in model_ids.items()}
    if all(champions.values()):
        return {k: v for k, v in champions.items() if v is not None}
    bundles = _cached(cache_dir)
    if bundles is None:
        run_dir = simulate_history(
            fleet_path, cache_dir / "history", history_end=history_end or datetime.now(UTC)
        )
        version = datetime.now(UTC).strftime("baseline-%Y%m%d")
        bundles = train_baseline(
            run_dir, signing_key=signing_key, version=version,
            reading_interval_s=reading_interval_s, limits=limits,
        )  # fmt: skip
        cache_dir.mkdir(parents=True, exist_ok=True)
        for bundle in bundles:
            (cache_dir / f"{bundle.kind}.tar").write_bytes(bundle.archive)
    result: dict[str, RegisteredModel] = {}
    for bundle in bundles:
        existing = champions[bundle.kind]
        if existing is not None:
            result[bundle.kind] = existing
            continue
        model_id, version = bundle.manifest.model_id, bundle.manifest.version
        if version not in {v.version for v in registry.versions(model_id)}:
            registry.register(
                manifest=bundle.manifest, signature=bundle.signature, archive=bundle.archive,
                kind=bundle.kind, evaluation={"data": "simulated baseline history"},
                notes="baseline trained on simulated history",
            )  # fmt: skip
        registry.promote(model_id, version)
        result[bundle.kind] = registry.get(model_id, version)
    return result
