"""`altaviz-hub`: ingest, pipeline, serving database, portal, embedded broker."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

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
    # Every sub-command takes --config and --json-logs after its name too (as altaviz-edge
    # does); SUPPRESS keeps a value given before the sub-command when none is given after.
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--config", type=Path, default=argparse.SUPPRESS, help="YAML file")
    common.add_argument("--json-logs", action="store_true", default=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", required=True)

    def add(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return sub.add_parser(name, parents=[common], **kwargs)

    add(
        "ingest",
        help="land telemetry batches from MQTT and acknowledge them; keep station status and edge alarms",
    )

    pipeline = add("pipeline", help="run landing -> bronze -> silver -> gold -> serving database")
    pipeline.add_argument("--once", action="store_true", help="process what has landed, then stop")

    lake = add("lake", help="lakehouse audits, maintenance and history import")
    lake.add_argument(
        "action",
        choices=["report", "hash", "maintain", "history", "backfill"],
        help="report: alert episodes and data quality; hash: content hash per table; "
        "maintain: OPTIMIZE + VACUUM now; history: recent Delta versions (time travel); "
        "backfill PATH: land a reading history (readings.parquet or a simulator run dir)",
    )
    lake.add_argument("path", nargs="?", type=Path, help="backfill: the history to land")
    lake.add_argument("--org", help="backfill: org of every station (default: from the fleet file)")

    db = add("db", help="serving database migrations")
    db.add_argument("action", choices=["upgrade", "current"])

    portal = add("portal", help="serve the web portal and its JSON API (/api/v1)")
    portal.add_argument("--host", help="listen address (default: portal.host)")
    portal.add_argument("--port", type=int, help="listen port (default: portal.port)")
    portal.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    portal.add_argument(
        "--migrate", action="store_true", help="bring the serving database up to date first"
    )

    from hub.compliance import cli as compliance

    compliance.register(sub)
    workflows = add(
        "workflows",
        help="run the workflow scheduler (escalation, auto-resolve, freshness, cleanup, rules) "
        "and deliver notifications; safe to run on several replicas",
    )
    workflows.add_argument(
        "--once", action="store_true", help="run one tick of every job and one delivery pass"
    )
    from hub.stationconfig.cli import add_parser as add_config_parser
    from hub.stations.cli import add_commands as add_station_commands

    stations = add(
        "stations",
        help="a station's identity and broker access (provision, revoke) and the configuration "
        "its agent runs (config)",
    )
    station_commands = stations.add_subparsers(dest="stations_command", required=True)

    def add_station(name: str, **kwargs: Any) -> argparse.ArgumentParser:
        return station_commands.add_parser(name, parents=[common], **kwargs)

    add_station_commands(add_station)
    add_config_parser(add_station)

    broker = add("broker", help="run the embedded MQTT broker (demo and trials)")
    broker.add_argument("--host", default="127.0.0.1")
    broker.add_argument("--port", type=int, default=1883)
    return parser


def _wait_for_signal() -> None:
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()


def _ingest(args: argparse.Namespace) -> int:
    from hub.ingest.events import StationEventsWorker
    from hub.ingest.hotpath import HotPath
    from hub.ingest.worker import IngestWorker
    from hub.observability.service import ingest_checks, start_service
    from hub.settings import HubSettings

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    worker: IngestWorker | None = None
    # The service (and its log context) first: everything after logs as "ingest".
    health = start_service(
        "ingest",
        settings.observability,
        ingest_checks(settings, connected=lambda: worker is not None and worker.connected.is_set()),
    )
    engine = _serving_engine(settings)
    # Newest values and station freshness reach serving straight from ingest (the hot path).
    worker = IngestWorker(settings, hotpath=HotPath(engine))
    # Station status and edge alarms go to the serving database the portal reads; it is
    # migrated (when auto_migrate, by _serving_engine) before anything lands, so a kill
    # never interrupts DDL while batches are acknowledged.
    events = StationEventsWorker(settings, engine)
    worker.start()
    events.start()
    from hub.stationconfig.link import ConfigReportsWorker

    config_reports = ConfigReportsWorker(settings, events.events.engine)
    config_reports.start()
    try:
        _wait_for_signal()
    finally:
        config_reports.stop()
        events.stop()
        worker.stop()
        if health is not None:
            health.stop()
    return 0


def _serving_engine(settings):  # type: ignore[no-untyped-def]
    from hub.db.migrate import upgrade
    from hub.db.session import make_engine

    if settings.pipeline.auto_migrate:
        upgrade(settings.database_url)
    return make_engine(settings.database_url)


def _pipeline(args: argparse.Namespace) -> int:
    from hub.lakehouse.pipeline import ContinuousPipeline, run_once
    from hub.lakehouse.spark import build_spark
    from hub.observability import checks
    from hub.observability.service import pipeline_checks, start_service, timed_serving_sync
    from hub.scoring.stage import scoring_stage
    from hub.serving.sync import prepare_serving
    from hub.settings import HubSettings

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    # A one-shot run (cron, a test) needs no endpoint and must not take the service's port.
    health = (
        None
        if args.once
        else start_service("pipeline", settings.observability, pipeline_checks(settings))
    )
    sync = prepare_serving(settings)
    scoring = scoring_stage(settings, sync.engine)
    serving = timed_serving_sync(sync)
    spark = build_spark(settings.spark)
    if health is not None:
        health.add_check(checks.spark_check(spark))
    try:
        if args.once:
            result = run_once(spark, settings, after_commit=serving, scoring=scoring)
            print(
                f"bronze: +{result.bronze_rows_added} row(s) in {result.batches} micro-batch(es); "
                f"silver/gold: {result.readings_processed} reading(s) in "
                f"{result.silver_batches} micro-batch(es)"
            )
            return 0
        pipeline = ContinuousPipeline(spark, settings, after_commit=serving, scoring=scoring)
        pipeline.start()
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        try:
            while not stop.wait(1.0):
                pipeline.poll()
        finally:
            pipeline.stop()
        return 0
    finally:
        spark.stop()
        if health is not None:
            health.stop()


def _lake(args: argparse.Namespace) -> int:
    from hub.settings import HubSettings

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    if args.action == "backfill":
        return _backfill(args, settings)
    from hub.lakehouse import report
    from hub.lakehouse.spark import build_spark

    spark = build_spark(settings.spark, app_name="altaviz-lake")
    try:
        report.run(args.action, spark, settings, out=sys.stdout)
    finally:
        spark.stop()
    return 0


def _backfill(args: argparse.Namespace, settings) -> int:  # type: ignore[no-untyped-def]
    from hub.ingest.landing import LandingZone
    from hub.lakehouse.assets import load_assets_fleet
    from hub.lakehouse.backfill import land_history
    from shared.errors import ConfigError

    if args.path is None:
        raise ConfigError("lake backfill: give the history to land (a file or a run directory)")
    fleet = None if args.org else load_assets_fleet(settings.pipeline.seed_fleet)
    zone = LandingZone(settings.landing_dir, settings.quarantine_dir)
    batches, readings = land_history(args.path, zone, fleet=fleet, org_id=args.org)
    print(f"landed {readings} reading(s) in {batches} batch(es) under {settings.landing_dir}")
    return 0


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


def _portal(args: argparse.Namespace) -> int:
    from hub.settings import HubSettings

    # Settings first: a bad one is one line, before any import can print a warning.
    settings = HubSettings.load(args.config)
    settings.check_portal(host=args.host)
    configure_logging(settings.log_level, json_lines=args.json_logs)

    import uvicorn

    from hub.db.migrate import upgrade
    from hub.observability.service import start_service
    from hub.portal.app import create_app

    start_service("portal", settings.observability)  # /health, /ready, /metrics: in the app
    if args.migrate:
        upgrade(settings.database_url)
    if args.workers > 1:  # each worker process builds its own app from the same settings
        if args.config:
            os.environ["ALTAVIZ_HUB_CONFIG"] = str(args.config)
        target: Any = "hub.portal.asgi:create"
    else:
        target = create_app(settings)
    uvicorn.run(
        target,
        factory=args.workers > 1,
        workers=args.workers,
        host=args.host or settings.portal.host,
        port=args.port or settings.portal.port,
        log_config=None,
        proxy_headers=not settings.development,
        server_header=False,
    )
    return 0


def _workflows(args: argparse.Namespace) -> int:
    from hub.settings import HubSettings
    from hub.workflows.clock import SystemClock
    from hub.workflows.jobs import WorkflowRunner

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    if not settings.workflows.enabled:
        print("workflows are disabled (workflows.enabled: false)")
        return 0
    runner = WorkflowRunner(_serving_engine(settings), settings, clock=SystemClock())
    from hub.observability.service import workflows_health

    health = workflows_health(settings)
    if args.once:
        result = runner.scheduler.run_tick(runner.scheduler.current_tick())
        attempts = runner.dispatcher.run_once()
        print(f"ran {result.ran or 'nothing'}, skipped {result.skipped or 'nothing'}, "
              f"failed {result.failed or 'nothing'}; {attempts} delivery attempt(s)")  # fmt: skip
        return 1 if result.failed else 0
    runner.start()
    try:
        _wait_for_signal()
    finally:
        runner.stop()
        if health is not None:
            health.stop()
    return 0


def _stations(args: argparse.Namespace) -> int:
    from hub.settings import HubSettings

    if args.stations_command == "config":
        from hub.stationconfig.cli import run as run_config

        return run_config(args)
    from hub.stations.cli import run

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    return run(args, settings)


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


def _compliance(args: argparse.Namespace) -> int:
    from hub.compliance import cli as compliance

    return compliance.run(args)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {
        "ingest": _ingest,
        "pipeline": _pipeline,
        "lake": _lake,
        "db": _db,
        "portal": _portal,
        "workflows": _workflows,
        "broker": _broker,
        "compliance": _compliance,
        "stations": _stations,
    }
    return run_cli(PROG, lambda: handlers[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
