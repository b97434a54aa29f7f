"""What a demo (or a fresh hub) calls to have models from the start: train or load, register, publish.

`prepare_models` makes the three baseline models the org's champions (trained on
simulated history in ~20 s on two cores, cached under the data dir, so a second start
takes a second) and writes the public key the stations must pin. `publish_detector`
puts the detector's retained offer on every station's model topic (the bundle as a
file:// URL on one machine); stations that pin the key download, shadow-score and run it.
`closing_lines` is the closing summary's COMP-003 RUL trajectory and `early warning:` line.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import Engine

from hub.models_lifecycle.keys import signing_key
from hub.models_lifecycle.registry import ModelRegistry, RegisteredModel
from hub.models_lifecycle.rollout import FleetLink
from hub.scoring.baseline import ensure_baseline
from hub.scoring.summary import early_warning
from hub.settings import HubSettings
from models.drift import DriftLimits
from shared.bundle import public_key_pem
from simulator.scenario import load_scenario

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class DemoModels:
    champions: dict[str, RegisteredModel]
    #: The PEM public key stations pin (ALTAVIZ_EDGE_MODEL__PUBLIC_KEY_FILE).
    public_key_file: Path

    def lines(self) -> list[str]:
        return [
            f"model {m.model_id}@{m.version} is the champion ({kind})"
            for kind, m in sorted(self.champions.items())
        ]


def prepare_models(
    settings: HubSettings,
    engine: Engine,
    *,
    org_id: str,
    data_dir: Path,
    fleet_path: Path | None = None,
    thresholds_path: Path | None = None,
    reading_interval_s: float = 60.0,
    history_end: datetime | None = None,
) -> DemoModels:
    """Champions of anomaly, RUL and drift for `org_id` (the baseline unless some exist).

    The baseline trains on simulated days before `history_end` (the demo's simulated start).
    """
    registry = ModelRegistry(engine, settings.models.artifact_dir, org_id=org_id)
    key = signing_key(settings.models, development=settings.development)
    limits = DriftLimits.from_thresholds(thresholds_path or REPO / "config" / "thresholds.yaml")
    champions = ensure_baseline(
        registry,
        fleet_path=fleet_path or settings.pipeline.seed_fleet or REPO / "config" / "fleet.yaml",
        cache_dir=data_dir / "baseline-models",
        signing_key=key,
        reading_interval_s=reading_interval_s,
        limits=limits,
        history_end=history_end,
    )
    public = data_dir / "model-signing-key.pub.pem"
    public.parent.mkdir(parents=True, exist_ok=True)
    public.write_bytes(public_key_pem(key))
    return DemoModels(champions, public)


def publish_detector(
    settings: HubSettings,
    engine: Engine,
    models: DemoModels,
    *,
    org_id: str,
    stations: list[str],
    connect_timeout_s: float = 30.0,
) -> None:
    """The detector's retained offer on each station's model topic (file:// bundle URL)."""
    detector = models.champions["anomaly"]
    registry = ModelRegistry(engine, settings.models.artifact_dir, org_id=org_id)
    offer = detector.offer("file:")
    with FleetLink(settings.mqtt, org_id=org_id) as link:
        link.wait_connected(connect_timeout_s)
        for station in stations:
            link.publish_offer(station, offer)
            registry.record_deployment(
                station_id=station, model_id=detector.model_id, state="pending",
                offered=detector.version,
            )  # fmt: skip
    log.info("offered %s@%s to %s", detector.model_id, detector.version, ", ".join(stations))


def closing_lines(
    engine: Engine,
    *,
    org_id: str,
    scenario: str,
    start: str | datetime,
    compressor_id: str = "COMP-003",
    every_h: int = 12,
) -> list[str]:
    """The closing summary's RUL trajectory of `compressor_id` and its `early warning:` line.

    `scenario` and `start` are the demo's (its timeline): the failure time is the
    scenario's, moved to the demo's simulated start.
    """
    story = load_scenario(scenario).with_overrides(start=start)
    warning = early_warning(engine, org_id=org_id, compressor_id=compressor_id, scenario=story)
    return warning.lines(every_h=every_h)
