"""The demo's baseline models: trained on simulated history, registered, and warning of COMP-003."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.models_lifecycle.registry import ModelRegistry
from hub.scoring.anomaly import model_hours
from hub.scoring.baseline import ensure_baseline
from hub.scoring.champions import ChampionLoader
from hub.scoring.hourly import rul_scores
from hub.scoring.summary import RulPoint, failure_time, first_warning
from hub.serving.fleet import seed_fleet
from models.drift import DriftLimits
from shared.fleet import load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario
from tests.hub.scoring.support import serving_engine

REPO = Path(__file__).resolve().parents[3]
FLEET = REPO / "config" / "fleet.yaml"
SCENARIO = load_scenario("prototype-7day")


def test_baseline_champions_warn_of_comp_003_days_before_it_fails(tmp_path: Path) -> None:
    fleet = load_fleet(FLEET)
    units = tuple(c.id for _, c in fleet.compressors())
    engine = serving_engine(tmp_path, compressors=())
    seed_fleet(engine, fleet)
    org = fleet.org_of(next(fleet.stations()).id).id
    registry = ModelRegistry(engine, tmp_path / "models", org_id=org)
    key = Ed25519PrivateKey.generate()
    arguments = {
        "fleet_path": FLEET, "cache_dir": tmp_path / "cache", "signing_key": key,
        "reading_interval_s": 60.0, "limits": DriftLimits(260.0, 300.0),
        "history_end": SCENARIO.start,  # the 27 days before the story
    }  # fmt: skip
    champions = ensure_baseline(registry, **arguments)
    assert sorted(champions) == ["anomaly", "rul", "temp_forecast"]
    again = ensure_baseline(registry, **arguments)  # registered: nothing trained again
    assert {k: m.version for k, m in again.items()} == {k: m.version for k, m in champions.items()}
    loaded = ChampionLoader(registry, public_key=key.public_key()).current()
    assert [s.status for s in loaded.states] == ["active"] * 3
    assert loaded.anomaly is not None and loaded.rul is not None and loaded.drift is not None
    assert set(units) <= set(loaded.anomaly.compressor_index or {})

    # The demo's story, scored with them: COMP-003 (valve leak from day 3, trips on day 6).
    scenario = SCENARIO
    write_history(Simulation(fleet, scenario), tmp_path / "demo")
    readings = pq.read_table(tmp_path / "demo" / "readings.parquet").to_pandas()
    readings["org_id"] = org
    hours = model_hours(readings, loaded.anomaly, interval_s=60.0)
    station = hours[
        hours["station_id"] == hours.loc[hours["compressor_id"] == "COMP-003", "station_id"].iloc[0]
    ]
    since = scenario.start + pd.Timedelta(days=2)
    rul = rul_scores(station, loaded.rul, drift=loaded.drift, since=since)
    comp3 = rul[rul["compressor_id"] == "COMP-003"]
    points = [RulPoint(r.scored_at, r.score if r.score == r.score else None, r.lower, r.upper)
              for r in comp3.itertuples()]  # fmt: skip
    failure = failure_time(scenario, "COMP-003")
    warned = first_warning(points, failure)
    assert warned is not None
    lead_h = (failure - warned).total_seconds() / 3600
    assert 24.0 <= lead_h <= 80.0, lead_h  # degradation starts 82 h before the trip
    before = [p.hours for p in points if p.at < failure and p.hours is not None]
    assert before[-1] < before[0], "the RUL counts down towards the failure"
