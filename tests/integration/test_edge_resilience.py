"""Zero loss, zero duplicates at the hub's landing zone, counted by sequence number,
through a broker restart, an ingest outage, kill -9 of the agent, and a day-long partition."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
import pytest
import yaml

from edge_agent.agent import Agent
from edge_agent.buffer import Buffer
from edge_agent.settings import EdgeSettings
from shared.messages import StationStatus, decode_message
from shared.mqtt import MqttSettings
from tests.edge_agent.readings import station_day
from tests.support.services import Mosquitto
from tests.support.sources import FiniteSource
from tests.support.stack import (
    AgentThread,
    gateway_agent_command,
    hub_settings,
    landed_seq_counts,
    start_ingest,
    wait_until,
)

pytestmark = pytest.mark.mosquitto

REPO = Path(__file__).resolve().parents[2]


def _edge(root: Path, port: int, **uplink: Any) -> EdgeSettings:
    return EdgeSettings.load(
        None,
        org_id="org-a",
        station_id="STATION-1",
        mqtt=MqttSettings(port=port, reconnect_min_s=0.2, reconnect_max_s=1),
        buffer={"path": root / "edge" / "buffer.duckdb"},
        http={"enabled": False},
        uplink={"batch_max_rows": 200, "batch_max_age_s": 0.2, "ack_timeout_s": 3.0, **uplink},
    )


def _settled(agent: Agent) -> bool:
    stats = agent.stats
    return stats.unbatched_readings == 0 and stats.pending_batches == 0


def assert_exactly_once(landing: Path, last_seq: int) -> None:
    counts = landed_seq_counts(landing)
    missing = set(range(1, last_seq + 1)) - set(counts)
    assert not missing, (
        f"{len(missing)} sequence number(s) never landed, e.g. {sorted(missing)[:5]}"
    )
    twice = [seq for seq, n in counts.items() if n > 1]
    assert not twice, f"{len(twice)} sequence number(s) landed twice, e.g. {twice[:5]}"
    assert max(counts) == last_seq


def test_broker_stopped_and_restarted(mosquitto: Mosquitto, tmp_path: Path) -> None:
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    source = FiniteSource(total=8_000, per_poll=40, poll_interval_s=0.02)
    agent = Agent(_edge(tmp_path, mosquitto.port), source=source)
    with AgentThread(agent):
        wait_until(lambda: agent.acked_batches >= 3, timeout=30, what="first acks")
        mosquitto.stop()
        time.sleep(1.5)  # the agent keeps polling and buffering
        mosquitto.start()
        wait_until(lambda: source.exhausted and _settled(agent), timeout=90, what="all acked")
    ingest.stop()
    assert_exactly_once(hub.landing_dir, 8_000)


def test_ingest_down_then_up(mosquitto: Mosquitto, tmp_path: Path) -> None:
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    source = FiniteSource(total=6_000, per_poll=40, poll_interval_s=0.02)
    agent = Agent(_edge(tmp_path, mosquitto.port, ack_timeout_s=1.0), source=source)
    with AgentThread(agent):
        wait_until(lambda: agent.acked_batches >= 3, timeout=30, what="first acks")
        ingest.stop()
        time.sleep(2.0)  # batches published with nobody to land them
        ingest = start_ingest(hub, client_id="ingest-again")
        wait_until(lambda: source.exhausted and _settled(agent), timeout=90, what="all acked")
    ingest.stop()
    assert_exactly_once(hub.landing_dir, 6_000)


def _agent_config(root: Path, port: int) -> Path:
    config = {
        "org_id": "org-a",
        "station_id": "STATION-1",
        "source": {
            "kind": "simulated",
            "options": {"compressor_count": 10, "speed": 40, "poll_interval_s": 0.05, "seed": 3},
        },
        "mqtt": {"port": port, "keepalive_s": 5, "reconnect_min_s": 0.2, "reconnect_max_s": 1},
        "buffer": {"path": str(root / "edge" / "buffer.duckdb")},
        "http": {"enabled": False},
        "uplink": {
            "batch_max_rows": 500,
            "batch_max_age_s": 0.3,
            "ack_timeout_s": 3,
            "status_interval_s": 1,
            "drain_on_stop_s": 30,
        },
    }
    path = root / "edge.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _spawn(config: Path, *args: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*gateway_agent_command(), "run", "--config", str(config), *args],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=open(config.with_suffix(".log"), "ab"),
    )


class StatusWatch:
    """Collects the station's status messages (retained, and the last will)."""

    def __init__(self, port: int) -> None:
        self.seen: list[StationStatus] = []
        self._client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="status-watch")
        self._client.on_message = lambda _c, _u, m: self.seen.append(
            decode_message(m.payload, StationStatus)
        )
        self._client.connect("127.0.0.1", port)
        self._client.subscribe("altaviz/v1/org-a/STATION-1/status", qos=1)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()


def test_agent_killed_with_kill_9_mid_batch(mosquitto: Mosquitto, tmp_path: Path) -> None:
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    config = _agent_config(tmp_path, mosquitto.port)
    watch = StatusWatch(mosquitto.port)
    for kill_after_s in (2.5, 1.7):
        agent = _spawn(config)
        wait_until(lambda: ingest.service.landed >= 2, timeout=30, what="batches landing")
        time.sleep(kill_after_s)  # 400 readings/s, batches of 500: always one in the making
        os.kill(agent.pid, signal.SIGKILL)
        agent.wait(10)
    # The broker noticed the dead connection and published the last will.
    wait_until(lambda: any(not s.online for s in watch.seen), timeout=15, what="last will")
    watch.stop()
    final = _spawn(config, "--duration", "3")
    assert final.wait(90) == 0
    ingest.stop()
    buffer = Buffer(tmp_path / "edge" / "buffer.duckdb", station_id="STATION-1")
    stats = buffer.stats()
    buffer.close()
    assert stats.pending_batches == 0 and stats.unbatched_readings == 0, stats
    assert stats.last_seq > 1_000
    assert_exactly_once(hub.landing_dir, stats.last_seq)


def _landed_mtimes(landing: Path) -> list[tuple[int, float]]:
    """(first_seq, landing time) of every landed batch, from the `<station>.<first>-<last>` names."""
    return [
        (int(path.stem.split(".")[-1].split("-")[0]), path.stat().st_mtime)
        for path in landing.rglob("*.parquet")
    ]


@pytest.mark.slow
def test_day_long_partition_backlog_drains_while_live_data_flows(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    live = FiniteSource(total=10**9, per_poll=10, compressors=10, poll_interval_s=0.1)
    # Ack timeout short: a batch sent after the broker restart but before ingest has
    # re-subscribed is dropped by the broker and only an ack timeout sends it again.
    agent = Agent(
        _edge(tmp_path, mosquitto.port, batch_max_rows=1_000, batch_max_age_s=0.2, ack_timeout_s=5),
        source=live,
    )
    backlog = station_day(compressors=10, seconds=86_400)  # 864,000 readings
    with AgentThread(agent):
        wait_until(lambda: agent.acked_batches >= 2, timeout=30, what="live data flowing")
        mosquitto.stop()  # the partition: a day of readings piles up
        agent.call_soon(lambda a: a.buffer.append_table(backlog))
        wait_until(
            lambda: agent.stats.last_seq > backlog.num_rows, timeout=60, what="backlog stored"
        )
        mosquitto.start()
        wait_until(lambda: agent.sender.boundary is not None, timeout=30, what="reconnect")
        boundary = agent.sender.boundary or 0
        wait_until(
            lambda: not agent.sender.draining_backlog and agent.stats.pending_batches == 0,
            timeout=240,
            what="backlog drained",
        )
        live.total = live.produced  # stop producing, then settle the live tail
        wait_until(lambda: _settled(agent), timeout=60, what="live tail acked")
    ingest.stop()
    last_seq = agent.stats.last_seq
    assert last_seq > boundary >= backlog.num_rows
    assert_exactly_once(hub.landing_dir, last_seq)
    landed = _landed_mtimes(hub.landing_dir)
    backlog_done = max(t for first, t in landed if first <= boundary)
    first_live = min(t for first, t in landed if first > boundary)
    assert first_live < backlog_done, "live data waited for the whole backlog"
