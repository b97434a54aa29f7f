"""Ingest scale-out: batches landed per second by 1 and by 2 ingest replicas behind one MQTT
shared subscription on a real (loopback) mosquitto.

A publisher sends `--batches` batches of `--rows` readings (as 8 stations would) as fast as
the broker takes them; each replica lands (fsync + rename) and acknowledges what the broker
hands it. Measured: wall time from the first publish to the last batch durable, for one
replica and for two; every batch must land exactly once.

    .venv/bin/python bench/ingest_replicas.py [--batches 2000] [--rows 500]
"""

from __future__ import annotations

import argparse
import time

import paho.mqtt.client as paho
from common import commit
from edge_common import start_mosquitto, wait_for, workdir
from lake_common import load_average

from tests.support.factories import batch_payload
from tests.support.stack import hub_settings, start_ingest


def run(replicas: int, payloads: list[tuple[str, bytes]]) -> tuple[float, list[int]]:
    root = workdir(f"ingest-{replicas}")
    broker = start_mosquitto(root)
    try:
        settings = hub_settings(root, broker.port, log_level="WARNING")
        workers = [start_ingest(settings, client_id=f"bench-{i}") for i in range(replicas)]
        publisher = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="bench-stations")
        publisher.max_inflight_messages_set(200)
        publisher.max_queued_messages_set(0)
        publisher.connect("127.0.0.1", broker.port)
        publisher.loop_start()
        began = time.perf_counter()
        for topic, payload in payloads:
            publisher.publish(topic, payload, qos=1)
        wait_for(
            lambda: sum(w.service.landed for w in workers) >= len(payloads),
            timeout=600,
            what="every batch landed",
            every=0.01,
        )
        elapsed = time.perf_counter() - began
        publisher.loop_stop()
        publisher.disconnect()
        shares = [w.service.landed for w in workers]
        for worker in workers:
            worker.stop()
        landed = len(list(settings.landing_dir.rglob("*.parquet")))
        assert landed == len(payloads), f"{landed} files for {len(payloads)} batches"
        return elapsed, shares
    finally:
        broker.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000)
    parser.add_argument("--rows", type=int, default=500)
    args = parser.parse_args()
    payloads = []
    for i in range(args.batches):
        station = f"STATION-{i % 8 + 1}"
        first = (i // 8) * args.rows + 1
        payloads.append(
            (
                f"altaviz/v1/org-a/{station}/telemetry",
                batch_payload(args.rows, station_id=station, first_seq=first),
            )
        )
    size = sum(len(p) for _, p in payloads) / len(payloads)
    print(f"commit {commit()}; {args.batches} batches x {args.rows} readings ({size:,.0f} B each)")
    print(f"load average before: {load_average()}")
    baseline, _ = run(1, payloads)
    print(f"1 replica : {baseline:6.2f} s  {args.batches / baseline:7.1f} batches/s  "
          f"{args.batches * args.rows / baseline:10,.0f} readings/s")  # fmt: skip
    scaled, shares = run(2, payloads)
    print(f"2 replicas: {scaled:6.2f} s  {args.batches / scaled:7.1f} batches/s  "
          f"{args.batches * args.rows / scaled:10,.0f} readings/s  (shares {shares})")  # fmt: skip
    print(f"ratio 2/1: {baseline / scaled:.2f}x; load average after: {load_average()}")


if __name__ == "__main__":
    main()
