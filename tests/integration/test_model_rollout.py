"""A model from training at the hub to a running edge agent and back, over a real mosquitto.

`altaviz-models train` fits the per-compressor detector on simulator Parquet and
registers it; `publish` offers it (retained, canary station first) with the bundle
served from the artifact store; the agent verifies the signature and sha256,
shadow-scores, promotes and reports the version in its status; a second, better
version follows; `altaviz-models rollback` returns the station to the first.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from hub.db.migrate import upgrade
from hub.db.session import make_engine
from hub.models_lifecycle.registry import ModelRegistry
from models.cli import main as models_cli
from shared.bundle import generate_signing_key, private_key_pem, public_key_pem
from shared.messages import StationStatus, UpdateOutcome
from shared.mqtt import MqttSettings
from simulator.cli import main as sim_cli
from tests.support.services import Mosquitto
from tests.support.stack import AgentThread, wait_until

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ORG, STATION = "demo-org", "EF-KARNES"
MODEL = "compressor-anomaly"


def _run(tmp: Path) -> tuple[Path, Path]:
    """A 16-day healthy run of the station, and a copy that only has two of its compressors."""
    full = tmp / "run-full"
    assert sim_cli(["generate", "--scenario", "healthy", "--duration", "16d", "--station", STATION,
                    "--start", "2026-03-20T00:00:00Z", "--out", str(full)]) == 0  # fmt: skip
    partial = tmp / "run-partial"
    shutil.copytree(full, partial)
    for name in ("readings.parquet", "truth.parquet"):
        table = pq.read_table(full / name)
        keep = pc.is_in(table.column("compressor_id"), value_set=pc.cast(["COMP-001", "COMP-002"], "string"))
        pq.write_table(table.filter(keep), partial / name)
    return full, partial


def _hub_config(tmp: Path, port: int, key_file: Path) -> Path:
    config = {
        "development": True,
        "data_dir": str(tmp / "hub"),
        "lake_root": str(tmp / "hub" / "lake"),
        "database_url": f"sqlite:///{tmp / 'hub' / 'serving.db'}",
        "mqtt": {"port": port},
        "pipeline": {"seed_fleet": str(REPO / "config" / "fleet.yaml"), "auto_migrate": True},
        "models": {
            "artifact_dir": str(tmp / "hub" / "models"),
            "signing_key_file": str(key_file),
            "bundle_base_url": "file:",
            "canary_stations": [STATION],
            "canary_timeout_s": 90,
            "fleet_timeout_s": 90,
        },
    }
    path = tmp / "hub.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _edge(tmp: Path, port: int, public_key: Path) -> Agent:
    settings = EdgeSettings.load(
        None,
        org_id=ORG,
        station_id=STATION,
        mqtt=MqttSettings(port=port, reconnect_min_s=0.2, reconnect_max_s=1),
        buffer={"path": tmp / "edge" / "buffer.duckdb"},
        http={"enabled": False},
        uplink={"status_interval_s": 1.0, "drain_on_stop_s": 0},
        source={
            "kind": "simulated",
            "options": {
                "scenario": "healthy",
                "start": "2026-04-06T00:00:00Z",
                "speed": 120,
                "interval_s": 1,
                "poll_interval_s": 0.5,
            },
        },
        model={"dir": tmp / "edge" / "models", "public_key_file": public_key, "shadow_readings": 60},
    )
    return Agent(settings)


def test_publish_reaches_the_edge_and_rollback_returns_the_fleet(
    mosquitto: Mosquitto, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full_run, partial_run = _run(tmp_path)
    key = generate_signing_key()
    key_file, public_file = tmp_path / "signing.pem", tmp_path / "pinned.pem"
    key_file.write_bytes(private_key_pem(key))
    key_file.chmod(0o600)
    public_file.write_bytes(public_key_pem(key))
    config = _hub_config(tmp_path, mosquitto.port, key_file)
    upgrade(f"sqlite:///{tmp_path / 'hub' / 'serving.db'}")
    common = ["--config", str(config), "--org", ORG, "--stations", STATION]

    agent = _edge(tmp_path, mosquitto.port, public_file)
    with AgentThread(agent):
        # v1: two of the station's three compressors; no champion yet, so it is offered.
        assert models_cli(["train", *common, "--run", str(partial_run)]) == 0
        assert models_cli(["publish", *common]) == 0
        registry = ModelRegistry(
            make_engine(f"sqlite:///{tmp_path / 'hub' / 'serving.db'}"),
            tmp_path / "hub" / "models",
            org_id=ORG,
        )
        v1 = registry.champion(MODEL)
        assert v1 is not None
        wait_until(lambda: _running(agent) == v1.version, timeout=60, what="the edge to run v1")

        # v2 covers all three compressors: better on the held-out days, so it is offered.
        assert models_cli(["train", *common, "--run", str(full_run)]) == 0
        out = capsys.readouterr().out
        assert "challenger better" in out and "more compressor" in out
        assert models_cli(["publish", *common]) == 0
        v2 = registry.champion(MODEL)
        assert v2 is not None and v2.version != v1.version
        wait_until(lambda: _running(agent) == v2.version, timeout=60, what="the edge to run v2")
        status = agent.snapshot
        assert status["last_model_update"]["outcome"] == UpdateOutcome.PROMOTED.value
        assert status["model"]["previous"] == f"{MODEL}@{v1.version}"

        # A third training on the same data is no better: registered, rejected, never offered.
        assert models_cli(["train", *common, "--run", str(full_run)]) == 0
        assert "not offered" in capsys.readouterr().out
        assert registry.champion(MODEL).version == v2.version  # type: ignore[union-attr]

        assert models_cli(["rollback", *common, "--reason", "test"]) == 0
        wait_until(lambda: _running(agent) == v1.version, timeout=60, what="the edge to run v1 again")
        assert registry.champion(MODEL).version == v1.version  # type: ignore[union-attr]
        assert registry.get(MODEL, v2.version).status == "rejected"
        deployment = registry.deployments(MODEL)[STATION]
        assert deployment["running"] == v1.version and deployment["state"] == "promoted"

    # What the hub heard is what the agent reported over MQTT.
    reported = StationStatus.model_validate(agent.snapshot | {"online": True})
    assert reported.model_version == v1.version


def _running(agent: Agent) -> str | None:
    model = agent.models.running
    return model.version if model is not None else None
