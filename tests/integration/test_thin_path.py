"""Edge -> real mosquitto -> hub ingest -> landing -> bronze Delta, exactly once."""

from __future__ import annotations

import threading
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from deltalake import DeltaTable

from edge_agent.agent import Agent
from hub.ingest.worker import IngestWorker
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.tables import LakePaths
from hub.settings import HubSettings
from shared.messages import Ack, AckStatus, decode_message
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

pytestmark = [pytest.mark.mosquitto, pytest.mark.spark]

N = 3_000


def _all_acked(agent: Agent, source: FiniteSource) -> bool:
    stats = agent.stats
    return source.exhausted and stats.unbatched_readings == 0 and stats.pending_batches == 0


def _assert_exactly_once(spark, settings: HubSettings, n: int) -> None:  # type: ignore[no-untyped-def]
    counts = landed_seq_counts(settings.landing_dir)
    assert sorted(counts) == list(range(1, n + 1)), "landing zone is missing sequence numbers"
    assert max(counts.values()) == 1, "landing zone holds a sequence number twice"
    run_once(spark, settings)
    run_once(spark, settings)  # a second pass over the same files adds nothing
    bronze_path = LakePaths(settings.lake_root).bronze_readings
    bronze = spark.read.format("delta").load(bronze_path)
    assert bronze.count() == n
    assert bronze.select("seq").distinct().count() == n
    assert {r.org_id for r in bronze.select("org_id").distinct().collect()} == {"org-a"}
    # An independent reader agrees.
    independent = DeltaTable(bronze_path).to_pyarrow_table(columns=["seq", "batch_id"])
    assert independent.num_rows == n
    assert sorted(independent.column("seq").to_pylist()) == list(range(1, n + 1))


def test_readings_arrive_exactly_once(mosquitto: Mosquitto, tmp_path: Path, spark) -> None:  # type: ignore[no-untyped-def]
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    source = FiniteSource(total=N, per_poll=150)
    agent = Agent(edge_settings(tmp_path, mosquitto.port), source=source)
    with AgentThread(agent):
        wait_until(lambda: _all_acked(agent, source), timeout=60, what="every batch acknowledged")
    ingest.stop()
    assert ingest.service.landed == N // 200
    _assert_exactly_once(spark, hub, N)


def test_same_batch_delivered_twice(mosquitto: Mosquitto, tmp_path: Path, spark) -> None:  # type: ignore[no-untyped-def]
    hub = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(hub)
    source = FiniteSource(total=N, per_poll=150)
    agent = Agent(edge_settings(tmp_path, mosquitto.port), source=source)
    with AgentThread(agent):
        wait_until(lambda: _all_acked(agent, source), timeout=60, what="every batch acknowledged")

    # Replay every landed payload, as a broker redelivery or an edge re-send would.
    acks: list[Ack] = []
    got_all = threading.Event()
    replay = list(hub.landing_dir.rglob("*.parquet"))

    def on_message(_c, _u, message) -> None:  # type: ignore[no-untyped-def]
        acks.append(decode_message(message.payload, Ack))
        if len(acks) == len(replay):
            got_all.set()

    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="replayer")
    client.on_message = on_message
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe("altaviz/v1/org-a/STATION-1/ack", qos=1)
    client.loop_start()
    try:
        for path in replay:
            client.publish(
                "altaviz/v1/org-a/STATION-1/telemetry", path.read_bytes(), qos=1
            ).wait_for_publish(5)
        assert got_all.wait(20)
    finally:
        client.loop_stop()
        client.disconnect()
    ingest.stop()
    assert all(a.status == AckStatus.DURABLE and a.duplicate for a in acks)
    assert ingest.service.duplicates == len(replay)
    _assert_exactly_once(spark, hub, N)


class _CrashAfterLanding(IngestWorker):
    """An ingest that lands batches and then dies before acknowledging them."""

    def _on_message(self, client, userdata, message) -> None:  # type: ignore[no-untyped-def]
        self.service.handle(message.topic, message.payload)  # landed durably...
        # ...and the process dies: no ack to the edge, no PUBACK to the broker.


def test_ingest_restarted_between_landing_and_ack(
    mosquitto: Mosquitto, tmp_path: Path, spark
) -> None:  # type: ignore[no-untyped-def]
    hub = hub_settings(tmp_path, mosquitto.port)
    crashing = start_ingest(hub, client_id="ingest-doomed")
    crashing.__class__ = _CrashAfterLanding
    crashing._client.on_message = crashing._on_message  # bind the crashing handler
    source = FiniteSource(total=N, per_poll=150)
    agent = Agent(edge_settings(tmp_path, mosquitto.port, ack_timeout_s=1.0), source=source)
    with AgentThread(agent):
        wait_until(lambda: crashing.service.landed >= 3, timeout=30, what="some batches landed")
        crashing.stop()
        replacement = start_ingest(hub, client_id="ingest-replacement")
        wait_until(lambda: _all_acked(agent, source), timeout=90, what="every batch acknowledged")
        replacement.stop()
    assert replacement.service.duplicates >= 3  # re-sent batches found already landed
    _assert_exactly_once(spark, hub, N)


def test_edge_restarted_with_unacknowledged_batches(
    mosquitto: Mosquitto, tmp_path: Path, spark
) -> None:  # type: ignore[no-untyped-def]
    hub = hub_settings(tmp_path, mosquitto.port)
    edge = edge_settings(tmp_path, mosquitto.port)
    first_source = FiniteSource(total=N, per_poll=300)
    first = Agent(edge, source=first_source)
    with AgentThread(first):  # no ingest running: nothing is acknowledged
        wait_until(lambda: first_source.exhausted, timeout=30, what="all readings produced")
        wait_until(lambda: first.sent_batches >= 5, timeout=30, what="batches published")
    assert first.acked_batches == 0
    ingest = start_ingest(hub)
    second = Agent(edge, source=FiniteSource(total=0))
    assert second.stats.pending_batches > 0
    with AgentThread(second):
        wait_until(
            lambda: second.stats.pending_batches == 0 and second.stats.unbatched_readings == 0,
            timeout=60,
            what="the backlog acknowledged after restart",
        )
    ingest.stop()
    _assert_exactly_once(spark, hub, N)
