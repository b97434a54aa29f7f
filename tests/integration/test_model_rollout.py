"""A model from training at the hub to running edge agents and back, over a real mosquitto.

Two stations, each with its own edge agent on the simulated source: EF-KARNES is the
canary, PB-MIDLAND the rest of the fleet. `altaviz-models train` fits the
per-compressor detector on simulator Parquet and registers it; `publish` offers it
(retained, on the model topic) to the canary first and to the fleet only after the
canary reports running it; bundles come over HTTP from the hub's bundle server. Each
agent verifies the signature and every sha256, shadow-scores, promotes and reports the
version in its retained status. A bundle corrupted in the artifact store is refused by
the canary and never reaches the fleet; `altaviz-models rollback` returns every station
to the previous champion.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from hub.db.migrate import upgrade
from hub.db.session import make_engine
from hub.models_lifecycle.bundle_urls import BundleUrls
from hub.models_lifecycle.registry import BUNDLE_FILE, ModelRegistry
from hub.models_lifecycle.server import BundleServer
from models.bundles import ONNX_FILE
from models.cli import main as models_cli
from shared.bundle import (
    generate_signing_key,
    pack_bundle,
    private_key_pem,
    public_key_pem,
    read_archive,
)
from shared.messages import ModelOffer, StationStatus, UpdateOutcome, decode_message
from shared.mqtt import MqttSettings
from simulator.cli import main as sim_cli
from tests.support.services import Mosquitto
from tests.support.stack import AgentThread, wait_until

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
ORG, CANARY, FLEET = "demo-org", "EF-KARNES", "PB-MIDLAND"
STATIONS = (CANARY, FLEET)
MODEL = "compressor-anomaly"
#: v1 knows one compressor less per station than the full run.
PARTIAL = ["COMP-001", "COMP-002", "COMP-004", "COMP-005"]


def _runs(tmp: Path) -> tuple[Path, Path]:
    """A 16-day healthy run of both stations, and a copy without COMP-003 and COMP-006."""
    full = tmp / "run-full"
    args = ["--log-level", "WARNING", "generate", "--scenario", "healthy", "--duration", "16d",
            "--station", CANARY, "--station", FLEET, "--start", "2026-03-20T00:00:00Z",
            "--out", str(full)]  # fmt: skip
    assert sim_cli(args) == 0
    partial = tmp / "run-partial"
    shutil.copytree(full, partial)
    for name in ("readings.parquet", "truth.parquet"):
        table = pq.read_table(full / name)
        keep = pc.is_in(table.column("compressor_id"), value_set=pc.cast(PARTIAL, "string"))
        pq.write_table(table.filter(keep), partial / name)
    return full, partial


def _hub_config(tmp: Path, port: int, key_file: Path, bundle_url: str) -> Path:
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
            "bundle_base_url": bundle_url,
            "canary_stations": [CANARY],
            "canary_timeout_s": 60,
            "fleet_timeout_s": 60,
        },
    }
    path = tmp / "hub.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _agent(tmp: Path, station: str, port: int, public_key: Path) -> Agent:
    settings = EdgeSettings.load(
        None,
        org_id=ORG,
        station_id=station,
        mqtt=MqttSettings(port=port, reconnect_min_s=0.2, reconnect_max_s=1),
        buffer={"path": tmp / station / "buffer.duckdb"},
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
        model={
            "dir": tmp / station / "models",
            "public_key_file": public_key,
            "shadow_readings": 60,
            "allow_http": True,
        },
    )
    return Agent(settings)


class Wire:
    """What crosses the broker: model offers and station statuses, with arrival times."""

    def __init__(self, port: int) -> None:
        self.offers: list[tuple[float, str, str]] = []  # (time, station, version)
        self.statuses: list[tuple[float, str, StationStatus]] = []
        self._lock = threading.Lock()
        ready = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="test-wire")

        def on_connect(client: paho.Client, *_a: Any) -> None:
            client.subscribe([(f"altaviz/v1/{ORG}/+/model", 1), (f"altaviz/v1/{ORG}/+/status", 1)])
            ready.set()

        self.client.on_connect = on_connect
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert ready.wait(10)

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        station, kind = message.topic.split("/")[3:5]
        now = time.monotonic()
        with self._lock:
            if kind == "model":
                offer = decode_message(message.payload, ModelOffer)
                self.offers.append((now, station, offer.manifest.version))
            else:
                self.statuses.append((now, station, decode_message(message.payload, StationStatus)))

    def first_offer(self, station: str, version: str) -> float | None:
        with self._lock:
            return next((t for t, s, v in self.offers if (s, v) == (station, version)), None)

    def first_running(self, station: str, version: str) -> float | None:
        with self._lock:
            return next(
                (t for t, s, st in self.statuses if s == station and st.model_version == version),
                None,
            )

    def latest_offer(self, station: str) -> str | None:
        with self._lock:
            found = [v for _, s, v in self.offers if s == station]
        return found[-1] if found else None

    def latest_version(self, station: str) -> str | None:
        with self._lock:
            found = [st.model_version for _, s, st in self.statuses if s == station]
        return found[-1] if found else None

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@pytest.fixture
def wire(mosquitto: Mosquitto) -> Iterator[Wire]:
    listener = Wire(mosquitto.port)
    yield listener
    listener.close()


def _running(agent: Agent) -> str | None:
    model = agent.models.running
    return model.version if model is not None else None


def test_publish_reaches_the_fleet_canary_first_and_rollback_returns_it(
    mosquitto: Mosquitto, wire: Wire, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    full_run, partial_run = _runs(tmp_path)
    key = generate_signing_key()
    key_file, public_file = tmp_path / "signing.pem", tmp_path / "pinned.pem"
    key_file.write_bytes(private_key_pem(key))
    key_file.chmod(0o600)
    public_file.write_bytes(public_key_pem(key))
    upgrade(f"sqlite:///{tmp_path / 'hub' / 'serving.db'}")
    artifacts = tmp_path / "hub" / "models"
    registry = ModelRegistry(
        make_engine(f"sqlite:///{tmp_path / 'hub' / 'serving.db'}"), artifacts, org_id=ORG
    )
    with ExitStack() as stack:
        # Signed per station with the key the CLI derives from the same signing key.
        urls = BundleUrls.from_signing_key(key)
        server = stack.enter_context(BundleServer(artifacts, urls=urls))
        config = _hub_config(tmp_path, mosquitto.port, key_file, server.base_url)
        common = ["--config", str(config), "--org", ORG, "--stations", *STATIONS]
        agents = {s: _agent(tmp_path, s, mosquitto.port, public_file) for s in STATIONS}
        for agent in agents.values():
            stack.enter_context(AgentThread(agent))

        # v1 (four compressors): no champion yet, so it is offered; canary first.
        assert models_cli(["train", *common, "--run", str(partial_run)]) == 0
        assert models_cli(["publish", *common]) == 0
        v1 = registry.champion(MODEL)
        assert v1 is not None
        for station, agent in agents.items():
            wait_until(lambda a=agent: _running(a) == v1.version, timeout=30, what=f"{station} v1")
        canary_ran = wire.first_running(CANARY, v1.version)
        fleet_offered = wire.first_offer(FLEET, v1.version)
        assert canary_ran is not None and fleet_offered is not None
        assert canary_ran < fleet_offered, "the fleet was offered v1 before the canary ran it"

        # v2 covers all six compressors: better on the held-out days, so it is a candidate...
        assert models_cli(["train", *common, "--run", str(full_run)]) == 0
        out = capsys.readouterr().out
        assert "challenger better" in out and "more compressor" in out
        v2 = [v for v in registry.versions(MODEL) if v.status == "candidate"][-1]
        # ...but its archive is corrupted in the artifact store: the canary refuses it (sha256)
        # and the fleet is never offered it.
        files = read_archive(v2.bundle_path.read_bytes())
        onnx = bytearray(files[ONNX_FILE])
        onnx[len(onnx) // 2] ^= 0x01
        v2.bundle_path.write_bytes(pack_bundle(v2.manifest, v2.signature, {ONNX_FILE: bytes(onnx)}))
        assert models_cli(["publish", *common]) == 6
        out = capsys.readouterr().out
        assert f"{CANARY} refused it" in out and "sha256" in out and FLEET in out
        assert wire.first_offer(FLEET, v2.version) is None
        # The canary's retained offer is the champion's again (for a restarted station).
        wait_until(lambda: wire.latest_offer(CANARY) == v1.version, timeout=10,
                   what="the canary's retained offer to return to v1")  # fmt: skip
        assert registry.get(MODEL, v2.version).status == "rejected"
        assert all(_running(a) == v1.version for a in agents.values())
        canary_update = agents[CANARY].models.last_update
        assert canary_update is not None and canary_update.outcome == UpdateOutcome.REJECTED

        # v3, trained again on the full run, is sound: canary first, then the fleet.
        assert models_cli(["train", *common, "--run", str(full_run)]) == 0
        assert "challenger better" in capsys.readouterr().out
        assert models_cli(["publish", *common]) == 0
        v3 = registry.champion(MODEL)
        assert v3 is not None and v3.version not in (v1.version, v2.version)
        for station, agent in agents.items():
            wait_until(lambda a=agent: _running(a) == v3.version, timeout=30, what=f"{station} v3")
            status = agent.snapshot
            assert status["last_model_update"]["outcome"] == UpdateOutcome.PROMOTED.value
            assert status["model"]["previous"] == f"{MODEL}@{v1.version}"
        assert wire.first_running(CANARY, v3.version) < wire.first_offer(FLEET, v3.version)  # type: ignore[operator]

        # A fourth training on the same data is no better: registered, rejected, never offered.
        assert models_cli(["train", *common, "--run", str(full_run)]) == 0
        assert "not offered" in capsys.readouterr().out
        assert registry.champion(MODEL).version == v3.version  # type: ignore[union-attr]

        # Rollback: every station returns to v1, and says so in its status.
        assert models_cli(["rollback", *common, "--reason", "test"]) == 0
        for station, agent in agents.items():
            wait_until(lambda a=agent: _running(a) == v1.version, timeout=30, what=f"{station} v1")
        assert registry.champion(MODEL).version == v1.version  # type: ignore[union-attr]
        assert registry.get(MODEL, v3.version).status == "rejected"
        deployments = registry.deployments(MODEL)
        for station in STATIONS:
            assert deployments[station]["running"] == v1.version
            assert deployments[station]["state"] == "rolled_back"
            wait_until(lambda s=station: wire.latest_version(s) == v1.version, timeout=10,
                       what=f"{station} to report v1 again")  # fmt: skip
        assert (registry.directory(MODEL, v1.version) / BUNDLE_FILE).is_file()

        # Scheduled retraining, one cycle: trains, finds it better than v1, rolls it out.
        capsys.readouterr()
        assert models_cli(["retrain", *common, "--run", str(full_run), "--once"]) == 0
        v5 = registry.champion(MODEL)
        assert v5 is not None and v5.version not in (v1.version, v3.version)
        for station, agent in agents.items():
            wait_until(lambda a=agent: _running(a) == v5.version, timeout=30, what=f"{station} v5")
        assert models_cli(["registry", *common]) == 0
        listing = capsys.readouterr().out
        assert f"{MODEL}@{v5.version}  champion" in listing
        assert f"{MODEL}@{v1.version}  retired" in listing
        assert f"{MODEL}@{v2.version}  rejected" in listing
        assert f"{CANARY}: running {v5.version}" in listing
