"""Fault drills: kill -9 of the real ingest process while batches stream in, and kill -9 of
the broker while an edge drains its backlog; each followed by a restart, then every
published sequence number is counted in silver, exactly once. (kill -9 of the pipeline
mid-micro-batch: tests/integration/test_lakehouse_exactly_once.py.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from edge_agent.agent import Agent
from hub.db.migrate import upgrade
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.tables import LakePaths
from hub.settings import HubSettings
from tests.support.services import Mosquitto
from tests.support.sources import FiniteSource
from tests.support.stack import (
    AgentThread,
    edge_settings,
    hub_settings,
    landed_seq_counts,
    start_ingest,
    wait_until,
)

pytestmark = [pytest.mark.mosquitto, pytest.mark.spark, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]
N = 2_000


def _settled(agent: Agent, source: FiniteSource) -> bool:
    stats = agent.stats
    return source.exhausted and stats.unbatched_readings == 0 and stats.pending_batches == 0


def _assert_in_silver_exactly_once(spark, settings: HubSettings, n: int) -> None:  # type: ignore[no-untyped-def]
    counts = landed_seq_counts(settings.landing_dir)
    assert set(counts) == set(range(1, n + 1)), "a sequence number never landed"
    run_once(spark, settings)
    silver = spark.read.format("delta").load(LakePaths(settings.lake_root).silver_readings)
    rows = silver.select("station_id", "seq").collect()
    seqs = sorted(r.seq for r in rows)
    assert seqs == list(range(1, n + 1)), (
        f"silver: {len(seqs)} row(s), {len(set(seqs))} distinct of {n}"
    )


def _ingest_process(settings: HubSettings, tmp_path: Path) -> subprocess.Popen[bytes]:
    database_url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(database_url)  # as `altaviz-hub db upgrade` does before a deployment starts
    config = tmp_path / "ingest.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(settings.data_dir),
                "lake_root": settings.lake_root,
                "database_url": database_url,
                "mqtt": {"port": settings.mqtt.port},
                "ingest": {"known_stations_only": False, "client_id": "drill-ingest"},
                "pipeline": {"seed_fleet": None},
                "observability": {"ingest_port": None},
            }
        )
    )
    log = open(tmp_path / "ingest.log", "ab")  # noqa: SIM115 (the child writes it)
    return subprocess.Popen(
        [sys.executable, "-m", "hub", "ingest", "--config", str(config)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def test_ingest_killed_with_kill_9_while_batches_stream(
    mosquitto: Mosquitto, tmp_path: Path, spark
) -> None:  # type: ignore[no-untyped-def]
    settings = hub_settings(tmp_path, mosquitto.port)
    ingest = _ingest_process(settings, tmp_path)
    source = FiniteSource(total=N, per_poll=100, poll_interval_s=0.02)
    agent = Agent(edge_settings(tmp_path, mosquitto.port, ack_timeout_s=2.0), source=source)
    try:
        with AgentThread(agent):
            wait_until(
                lambda: len(list(settings.landing_dir.rglob("*.parquet"))) >= 3,
                timeout=60,
                what="the first batches landed",
            )
            os.kill(ingest.pid, signal.SIGKILL)  # mid-stream: some batches landed, not acked
            ingest.wait()
            time.sleep(1.0)  # batches keep coming while nobody lands them
            ingest = _ingest_process(settings, tmp_path)
            wait_until(lambda: _settled(agent, source), timeout=120, what="every batch acked")
    finally:
        ingest.send_signal(signal.SIGTERM)
        ingest.wait(timeout=20)
    _assert_in_silver_exactly_once(spark, settings, N)


def test_broker_killed_with_kill_9_while_the_edge_drains(
    mosquitto: Mosquitto, tmp_path: Path, spark
) -> None:  # type: ignore[no-untyped-def]
    settings = hub_settings(tmp_path, mosquitto.port)
    edge = edge_settings(tmp_path, mosquitto.port, ack_timeout_s=2.0)
    offline = FiniteSource(total=N, per_poll=500)
    first = Agent(edge, source=offline)
    with AgentThread(first):  # no ingest yet: a backlog builds up at the edge
        wait_until(lambda: offline.exhausted, timeout=60, what="the backlog produced")
    ingest = start_ingest(settings)
    try:
        draining = Agent(edge, source=FiniteSource(total=0))
        assert draining.stats.pending_batches + draining.stats.unbatched_readings > 0
        with AgentThread(draining):
            wait_until(
                lambda: len(list(settings.landing_dir.rglob("*.parquet"))) >= 2,
                timeout=60,
                what="the drain under way",
            )
            assert mosquitto._proc is not None
            mosquitto._proc.kill()  # kill -9: no chance to save its state
            mosquitto._proc.wait()
            time.sleep(1.0)
            mosquitto.start()
            wait_until(
                lambda: (
                    draining.stats.pending_batches == 0 and draining.stats.unbatched_readings == 0
                ),
                timeout=120,
                what="the backlog acknowledged after the broker's return",
            )
    finally:
        ingest.stop()
    _assert_in_silver_exactly_once(spark, settings, N)
