"""`altaviz-hub`: ingest, pipeline, embedded broker."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path

from hub import __version__
from shared.cli_support import configure_logging, run_cli

PROG = "altaviz-hub"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Altaviz cloud hub.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    parser.add_argument(
        "--config", type=Path, help="YAML file (default: config/hub.yaml if present)"
    )
    parser.add_argument("--json-logs", action="store_true", help="log one JSON object per line")
    sub = parser.add_subparsers(dest="command", required=True)

    sub.add_parser("ingest", help="land telemetry batches from MQTT and acknowledge them")

    pipeline = sub.add_parser("pipeline", help="run landing -> bronze (-> silver -> gold)")
    pipeline.add_argument("--once", action="store_true", help="process what has landed, then stop")

    db = sub.add_parser("db", help="serving database migrations")
    db.add_argument("action", choices=["upgrade", "current"])

    broker = sub.add_parser("broker", help="run the embedded MQTT broker (demo and trials)")
    broker.add_argument("--host", default="127.0.0.1")
    broker.add_argument("--port", type=int, default=1883)
    return parser


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


def _ingest(args: argparse.Namespace) -> int:
    from hub.ingest.worker import IngestWorker
    from hub.settings import HubSettings

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    worker = IngestWorker(settings)
    worker.start()
    try:
        _wait_for_signal()
    finally:
        worker.stop()
    return 0


def _pipeline(args: argparse.Namespace) -> int:
    from hub.lakehouse.pipeline import run_once, start_continuous
    from hub.lakehouse.spark import build_spark
    from hub.settings import HubSettings

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    spark = build_spark(settings.spark)
    try:
        if args.once:
            result = run_once(spark, settings)
            print(f"bronze: +{result.bronze_rows_added} row(s) in {result.batches} micro-batch(es)")
            return 0
        queries = start_continuous(spark, settings)
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        while not stop.wait(1.0):
            for query in queries:
                if query.exception() is not None:
                    raise query.exception()  # type: ignore[misc]
        for query in queries:
            query.stop()
        return 0
    finally:
        spark.stop()


def _db(args: argparse.Namespace) -> int:
    from alembic import command

    from hub.db.migrate import alembic_config, upgrade
    from hub.settings import HubSettings

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    if args.action == "upgrade":
        upgrade(settings.database_url)
    else:
        command.current(alembic_config(settings.database_url), verbose=False)
    return 0


def _broker(args: argparse.Namespace) -> int:
    from hub.broker import EmbeddedBroker

    configure_logging("INFO", json_lines=args.json_logs)
    broker = EmbeddedBroker(host=args.host, port=args.port)
    broker.start()
    try:
        _wait_for_signal()
    finally:
        broker.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"ingest": _ingest, "pipeline": _pipeline, "db": _db, "broker": _broker}
    return run_cli(PROG, lambda: handlers[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
