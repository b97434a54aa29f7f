"""`altaviz demo`: a station, an embedded broker, ingest and the lakehouse on one machine.

The edge agent runs as its own process (as on a gateway); the broker, ingest and
the Spark pipeline run in this one. Everything lives under --data-dir, so a
second run continues where the first stopped: the edge's sequence numbers and
buffer, the landing zone and the streaming checkpoint all carry over, and no
row is written twice.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

from hub import __version__
from shared.cli_support import configure_logging, run_cli
from shared.mqtt import MqttSettings

PROG = "altaviz"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Altaviz on one machine.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser("demo", help="run a simulated station into the lakehouse")
    demo.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: Ctrl-C)"
    )
    demo.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    demo.add_argument("--compressors", type=int, default=3)
    demo.add_argument("--speed", type=float, default=10.0, help="simulated seconds per second")
    demo.add_argument(
        "--pipeline-interval", type=float, default=15.0, help="seconds between pipeline runs"
    )
    return parser


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data_dir: Path = args.data_dir
        self.port = _free_port()
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> int:
        from hub.broker import EmbeddedBroker
        from hub.ingest.worker import IngestWorker
        from hub.lakehouse.spark import build_spark
        from hub.lakehouse.tables import LakePaths
        from hub.settings import HubSettings

        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        hub = HubSettings.load(
            None,
            data_dir=self.data_dir / "hub",
            lake_root=str((self.data_dir / "hub" / "lake").resolve()),
            # amqtt speaks MQTT 3.1.1 and has no shared subscriptions.
            mqtt=MqttSettings(port=self.port, protocol="3.1.1"),
            ingest={"shared_group": None},
            database_url=f"sqlite:///{(self.data_dir / 'hub' / 'serving.db').resolve()}",
            # Simulated time runs ahead of the hub's clock on purpose: not clock skew.
            quality={"future_tolerance_s": 1e9},
        )
        self.bronze_path = LakePaths(hub.lake_root).bronze_readings
        self._banner(hub)

        from hub.portal.demo import start_demo_portal

        portal = start_demo_portal(hub)
        print(f"  portal     {portal.url}  sign in as {portal.email} / {portal.password}")
        from hub.serving.sync import prepare_serving

        self.serving = prepare_serving(hub)
        broker = EmbeddedBroker(port=self.port)
        broker.start()
        ingest = IngestWorker(hub)
        ingest.start()
        edge = self._start_edge()
        spark = build_spark(hub.spark, app_name="altaviz-demo")
        before = self._bronze_rows(spark)
        print(
            f"Spark ready; bronze holds {before} row(s). Pipeline runs every {self.args.pipeline_interval:g}s."
        )
        try:
            self._loop(spark, hub, ingest, edge)
        finally:
            self._stop_edge(edge)
            ingest.stop()
            broker.stop()
            portal.stop()
        self._pipeline(spark, hub)
        after = self._bronze_rows(spark)
        self._summary(ingest, before, after)
        self._lakehouse_summary(spark, hub)
        spark.stop()
        return 0

    # -- pieces -----------------------------------------------------------

    def _banner(self, hub) -> None:  # type: ignore[no-untyped-def]
        print(f"Altaviz demo — data under {self.data_dir.resolve()}")
        print(f"  broker     embedded MQTT (amqtt) on 127.0.0.1:{self.port}")
        print(
            f"  station    demo-org/STATION-1: {self.args.compressors} simulated compressors, "
            f"time x{self.args.speed:g}"
        )
        print(f"  landing    {hub.landing_dir.resolve()}")
        print(f"  bronze     {self.bronze_path}")
        stop_hint = f"stops after {self.args.duration:g}s" if self.args.duration else "Ctrl-C stops"
        print(f"  ({stop_hint}; a second run continues without duplicating rows)")
        sys.stdout.flush()

    def _start_edge(self) -> subprocess.Popen[bytes]:
        logs = self.data_dir / "logs"
        logs.mkdir(exist_ok=True)
        options = {
            "compressor_count": self.args.compressors,
            "speed": self.args.speed,
            "poll_interval_s": 1.0,
        }
        env = {
            **os.environ,
            "ALTAVIZ_EDGE_MQTT__PORT": str(self.port),
            "ALTAVIZ_EDGE_MQTT__PROTOCOL": "3.1.1",
            "ALTAVIZ_EDGE_BUFFER__PATH": str(self.data_dir / "edge" / "STATION-1.duckdb"),
            "ALTAVIZ_EDGE_SOURCE__KIND": "simulated",
            "ALTAVIZ_EDGE_SOURCE__OPTIONS": json.dumps(options),
            "ALTAVIZ_EDGE_UPLINK__STATUS_INTERVAL_S": "2",
        }
        with open(logs / "edge.log", "ab") as log:
            return subprocess.Popen(
                [sys.executable, "-m", "edge_agent", "run"],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us; we stop the edge in order
            )

    def _stop_edge(self, edge: subprocess.Popen[bytes]) -> None:
        if edge.poll() is None:
            edge.send_signal(signal.SIGTERM)
            try:
                edge.wait(timeout=30)
            except subprocess.TimeoutExpired:
                edge.kill()
                edge.wait()

    def _edge_status(self) -> dict[str, object]:
        path = self.data_dir / "edge" / "STATION-1.status.json"
        try:
            return dict(json.loads(path.read_text()))
        except (OSError, ValueError):
            return {}

    def _loop(self, spark, hub, ingest, edge) -> None:  # type: ignore[no-untyped-def]
        deadline = self.started + self.args.duration if self.args.duration else None
        next_pipeline = time.monotonic() + self.args.pipeline_interval
        while not self.stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            if edge.poll() is not None:
                print(
                    f"edge agent exited with code {edge.returncode}; see {self.data_dir}/logs/edge.log"
                )
                break
            if time.monotonic() >= next_pipeline:
                self._pipeline(spark, hub)
                self._progress(spark, ingest)
                next_pipeline = time.monotonic() + self.args.pipeline_interval
            self.stop.wait(0.5)

    def _pipeline(self, spark, hub) -> None:  # type: ignore[no-untyped-def]
        from hub.lakehouse.pipeline import run_once

        run_once(spark, hub, after_commit=self.serving)

    def _bronze_rows(self, spark) -> int:  # type: ignore[no-untyped-def]
        from pyspark.errors import AnalysisException

        try:
            return int(spark.read.format("delta").load(self.bronze_path).count())
        except AnalysisException:
            return 0

    def _progress(self, spark, ingest) -> None:  # type: ignore[no-untyped-def]
        status = self._edge_status()
        elapsed = time.monotonic() - self.started
        print(
            f"[{elapsed:5.0f}s] edge: last seq {status.get('last_seq', '-')}, "
            f"backlog {status.get('backlog_readings', '-')} | "
            f"hub: {ingest.service.landed} batch(es) landed, {ingest.service.rejected} quarantined | "
            f"bronze: {self._bronze_rows(spark)} row(s)"
        )
        sys.stdout.flush()

    def _summary(self, ingest, before: int, after: int) -> None:  # type: ignore[no-untyped-def]
        status = self._edge_status()
        print()
        print("Summary")
        print(
            f"  edge       last seq {status.get('last_seq', '-')}, "
            f"{status.get('unacked_batches', '-')} batch(es) still awaiting ack (sent next run)"
        )
        print(
            f"  ingest     {ingest.service.landed} batch(es) landed this run, "
            f"{ingest.service.duplicates} re-delivery(ies) recognised, "
            f"{ingest.service.rejected} quarantined"
        )
        print(f"  bronze     {self.bronze_path}")
        print(f"  bronze rows: {after} (+{after - before} this run)")

    def _lakehouse_summary(self, spark, hub) -> None:  # type: ignore[no-untyped-def]
        from sqlalchemy import func, select

        from hub.db.session import session_scope
        from hub.lakehouse.io import Lake
        from hub.lakehouse.tables import ALERT_EPISODES, FEATURES_1M, HOURLY, SILVER_READINGS
        from hub.serving.models import CompressorStatus

        lake = Lake(spark, hub.lake_root)
        episodes = lake.read(ALERT_EPISODES) if lake.exists(ALERT_EPISODES) else None
        total = episodes.count() if episodes is not None else 0
        still_open = episodes.filter("status = 'open'").count() if episodes is not None else 0
        with session_scope(self.serving.engine) as session:
            statuses = session.scalar(select(func.count()).select_from(CompressorStatus))
        print(f"  silver rows: {lake.count(SILVER_READINGS)} (one per compressor and timestamp)")
        print(
            f"  gold rows: {lake.count(FEATURES_1M)} compressor-minute(s), "
            f"{lake.count(HOURLY)} compressor-hour(s)"
        )
        print(f"  alert episodes: {total} ({still_open} open)")
        print(f"  serving    {hub.database_url}: {statuses} compressor status row(s)")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging("WARNING")
    return run_cli(PROG, lambda: _Demo(args).run())


if __name__ == "__main__":
    sys.exit(main())
