"""The demo's processes and threads, started in order and stopped in reverse order."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.demo.report import Report
from hub.demo.stations import EdgeFleet, Timeline
from shared.mqtt import MqttSettings


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class PipelineLoop(threading.Thread):
    """`altaviz-hub pipeline` on a schedule: bronze, silver, gold and the serving database.

    Each run processes what has landed since the last one (exactly once, through the
    streaming checkpoints). Stopping waits for a running micro-batch instead of
    interrupting it.
    """

    def __init__(self, spark: Any, hub: Any, serving: Any, *, interval_s: float) -> None:
        super().__init__(name="lakehouse", daemon=True)
        self.spark, self.hub, self.serving = spark, hub, serving
        self.interval_s = interval_s
        self.readings = 0  # through silver and gold, this run of the demo
        self.batches = 0
        self.error: BaseException | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        while not self._stopping.wait(self.interval_s):
            try:
                self._once()
            except BaseException as exc:  # reported by the main loop
                self.error = exc
                return

    def catch_up(self) -> None:
        """One more run in the caller's thread (after stop: what landed since the last run)."""
        self._once()

    def _once(self) -> None:
        from hub.lakehouse.pipeline import run_once

        result = run_once(self.spark, self.hub, after_commit=self.serving)
        self.readings += result.readings_processed
        self.batches += result.batches

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join()


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data_dir: Path = args.data_dir
        self.port = _free_port()
        self.stop = threading.Event()
        self.started = time.monotonic()

    def _settings(self) -> Any:
        from hub.settings import HubSettings

        hub_dir = self.data_dir / "hub"
        return HubSettings.load(
            None,
            development=True,  # asked for: plain-http cookies on 127.0.0.1, generated keys
            data_dir=hub_dir,
            lake_root=str((hub_dir / "lake").resolve()),
            database_url=f"sqlite:///{(hub_dir / 'serving.db').resolve()}",
            # amqtt speaks MQTT 3.1.1 and has no shared subscriptions.
            mqtt=MqttSettings(port=self.port, protocol="3.1.1"),
            ingest={"shared_group": None},
            quality={
                "expected_interval_s": float(self.args.interval),
                # Accelerated simulated time runs ahead of the hub's clock on purpose.
                "future_tolerance_s": 1e9,
            },
        )

    def run(self) -> int:
        from hub.broker import EmbeddedBroker
        from hub.ingest.events import StationEventsWorker
        from hub.ingest.worker import IngestWorker
        from hub.lakehouse.spark import build_spark
        from hub.portal.demo import start_demo_portal
        from hub.serving.sync import prepare_serving

        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        hub = self._settings()
        timeline = Timeline.load_or_create(
            self.data_dir / "demo.json",
            scenario=self.args.scenario,
            start=datetime.now(UTC).replace(second=0, microsecond=0).isoformat(),
            speed=self.args.speed,
            interval_s=self.args.interval,
        )
        portal = start_demo_portal(hub, port=self.args.portal_port)
        edges = EdgeFleet(self.data_dir, portal.org_id, self.port, timeline)
        report = Report(self.data_dir, hub, timeline, edges, portal)
        report.banner(self.args.duration)

        serving = prepare_serving(hub)
        broker = EmbeddedBroker(port=self.port)
        broker.start()
        ingest = IngestWorker(hub)
        ingest.start()
        events = StationEventsWorker(hub, serving.engine)
        events.start()
        edges.start()
        spark = build_spark(hub.spark, app_name="altaviz-demo")
        report.lake_before(spark)
        pipeline = PipelineLoop(spark, hub, serving, interval_s=self.args.pipeline_interval)
        pipeline.start()
        print(f"Spark ready; the lakehouse runs every {self.args.pipeline_interval:g}s.")
        sys.stdout.flush()
        try:
            self._loop(report, pipeline, ingest, edges)
        finally:
            edges.stop()
            time.sleep(1.0)  # the last acks on their way
            time.sleep(1.0)  # the agents' last (offline) statuses
            events.stop()
            ingest.stop()
            broker.stop()
            pipeline.stop()  # lets a running micro-batch finish
            portal.stop()
        pipeline.catch_up()
        report.summary(spark, ingest, events.events.counts, pipeline)
        spark.stop()
        return 0

    def _loop(self, report: Report, pipeline: Any, ingest: Any, edges: EdgeFleet) -> None:
        deadline = self.started + self.args.duration if self.args.duration else None
        next_progress = time.monotonic() + 15.0
        while not self.stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            failed = edges.failed()
            if failed is not None:
                print(
                    f"edge agent {failed.station_id} exited with code {failed.exited}; "
                    f"see {failed.log_path}"
                )
                break
            if pipeline.error is not None:
                raise pipeline.error
            if time.monotonic() >= next_progress:
                report.progress(time.monotonic() - self.started, ingest, pipeline)
                next_progress = time.monotonic() + 15.0
            self.stop.wait(0.5)
