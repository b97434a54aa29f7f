"""The life-cycle commands of `altaviz-models` (registered through the `altaviz.models.commands`
entry point): train, publish, rollback, retrain, serve-bundles, registry."""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import Engine, select

from hub.db.models import Organization, Station
from hub.db.session import make_engine, session_scope
from hub.errors import HubError
from hub.models_lifecycle.bundle_urls import BundleUrls
from hub.models_lifecycle.keys import signing_key
from hub.models_lifecycle.registry import ModelRegistry, RegistryError
from hub.models_lifecycle.rollout import FleetLink, offer_everywhere, roll_out
from hub.models_lifecycle.server import BundleServer
from hub.models_lifecycle.training import TrainingSource, load_training_data, train_and_register
from hub.settings import HubSettings
from models.anomaly import AnomalyConfig
from models.bundles import ANOMALY_MODEL_ID

log = logging.getLogger(__name__)


def register(commands: Any) -> None:
    """Add the life-cycle subcommands to `altaviz-models`."""
    train = commands.add_parser(
        "train", help="train a challenger, compare with the champion, register"
    )
    _common(train)
    source = train.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="simulator run directory (Parquet)")
    source.add_argument(
        "--lake-days", type=float, help="train from this many days of silver readings"
    )
    train.add_argument("--as-of", help="training time (ISO; default: the end of the data)")
    train.add_argument(
        "--publish", action="store_true", help="roll the candidate out if it is better"
    )
    train.set_defaults(handler=_train)

    publish = commands.add_parser(
        "publish", help="roll a candidate out: canary stations, then the fleet"
    )
    _common(publish)
    publish.add_argument("--version", help="default: the newest candidate")
    publish.set_defaults(handler=_publish)

    rollback = commands.add_parser("rollback", help="return the fleet to the previous champion")
    _common(rollback)
    rollback.add_argument("--reason", default="operator rollback")
    rollback.set_defaults(handler=_rollback)

    retrain = commands.add_parser(
        "retrain", help="train (and publish a better model) on a schedule"
    )
    _common(retrain)
    again = retrain.add_mutually_exclusive_group(required=True)
    again.add_argument("--run", type=Path)
    again.add_argument("--lake-days", type=float)
    retrain.add_argument("--every-h", type=float, help="default: models.retrain_interval_h")
    retrain.add_argument(
        "--once", action="store_true", help="one cycle, then exit (for cron/systemd)"
    )
    retrain.set_defaults(handler=_retrain)

    serve = commands.add_parser("serve-bundles", help="serve bundle archives over HTTP")
    _common(serve)
    serve.set_defaults(handler=_serve)

    show = commands.add_parser("registry", help="list model versions and station deployments")
    _common(show)
    show.set_defaults(handler=_show)


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="hub settings YAML (default config/hub.yaml)")
    parser.add_argument(
        "--org", help="organisation (default: the only one in the serving database)"
    )
    parser.add_argument("--model-id", default=ANOMALY_MODEL_ID)
    parser.add_argument("--stations", nargs="+", help="default: every station of the org")


class _Context:
    def __init__(self, args: argparse.Namespace) -> None:
        self.settings = HubSettings.load(args.config)
        if self.settings.pipeline.auto_migrate:
            from hub.db.migrate import upgrade

            upgrade(self.settings.database_url)
        self.engine: Engine = make_engine(self.settings.database_url)
        fleet_file = self.settings.pipeline.seed_fleet
        if fleet_file is not None and fleet_file.exists():
            from hub.serving.fleet import seed_fleet
            from shared.fleet import load_fleet

            seed_fleet(self.engine, load_fleet(fleet_file))
        self.org_id: str = args.org or _only_org(self.engine)
        self.models = self.settings.models
        self.registry = ModelRegistry(self.engine, self.models.artifact_dir, org_id=self.org_id)
        self.model_id: str = args.model_id
        self.stations: list[str] = args.stations or _stations(self.engine, self.org_id)

    def bundle_urls(self) -> BundleUrls:
        key = signing_key(self.models, development=self.settings.development)
        return BundleUrls.from_signing_key(key)

    def link(self) -> FleetLink:
        link = FleetLink(self.settings.mqtt, org_id=self.org_id, urls=self.bundle_urls())
        link.wait_connected(30.0)
        return link


def _only_org(engine: Engine) -> str:
    with session_scope(engine) as session:
        orgs = list(session.scalars(select(Organization.id)).all())
    if len(orgs) != 1:
        raise HubError(f"{len(orgs)} organisations in the serving database: name one with --org")
    return orgs[0]


def _stations(engine: Engine, org_id: str) -> list[str]:
    with session_scope(engine, org_id=org_id) as session:
        return sorted(session.scalars(select(Station.id).where(Station.org_id == org_id)).all())


def _train(args: argparse.Namespace) -> int:
    context = _Context(args)
    outcome = _train_once(context, args.run, args.lake_days, args.as_of)
    if args.publish and outcome:
        return _roll_out(context, outcome)
    return 0


def _train_once(
    context: _Context, run: Path | None, lake_days: float | None, as_of: str | None
) -> str | None:
    config = AnomalyConfig()
    source = TrainingSource(run_dir=run, lake_days=lake_days)
    spark = None
    if run is None:
        from hub.lakehouse.spark import build_spark

        spark = build_spark(context.settings.spark, app_name="altaviz-models-train")
    data = load_training_data(
        source, config=config, settings=context.settings, org_id=context.org_id, spark=spark
    )
    outcome = train_and_register(
        data,
        context.registry,
        signing_key=signing_key(context.models, development=context.settings.development),
        reading_interval_s=context.models.edge_reading_interval_s,
        as_of=pd.Timestamp(as_of) if as_of else None,
        config=config,
        model_id=context.model_id,
        max_false_alarm_increase=context.models.max_false_alarm_increase,
    )
    registered = outcome.registered
    print(
        f"trained {registered.model_id}@{registered.version} on {data.description}: {registered.status}"
    )
    for line in outcome.decision.lines():
        print(line)
    return registered.version if outcome.decision.offer else None


def _publish(args: argparse.Namespace) -> int:
    context = _Context(args)
    version = args.version
    if version is None:
        candidates = [
            v for v in context.registry.versions(context.model_id) if v.status == "candidate"
        ]
        if not candidates:
            raise RegistryError(f"{context.model_id}: no candidate to publish (train one first)")
        version = candidates[-1].version
    return _roll_out(context, version)


def _roll_out(context: _Context, version: str) -> int:
    model = context.registry.get(context.model_id, version)
    models = context.models
    with context.link() as link:
        result = roll_out(
            link, context.registry, model, stations=context.stations, canary=models.canary_stations,
            base_url=models.bundle_base_url, canary_timeout_s=models.canary_timeout_s,
            fleet_timeout_s=models.fleet_timeout_s, champion=context.registry.champion(context.model_id),
        )  # fmt: skip
    for line in result.lines():
        print(line)
    if result.running and not result.refused and not result.not_offered:
        context.registry.promote(context.model_id, version)
        print(f"{context.model_id}@{version} is the champion")
        return 0 if result.complete else 6
    if result.refused or result.not_offered:
        context.registry.set_status(
            context.model_id, version, "rejected", notes="refused in rollout"
        )
    return 6


def _rollback(args: argparse.Namespace) -> int:
    context = _Context(args)
    current, previous = context.registry.roll_back(context.model_id, reason=args.reason)
    print(f"rolling back {context.model_id} from {current.version} to {previous.version}")
    with context.link() as link:
        result = offer_everywhere(
            link, context.registry, previous, stations=context.stations,
            base_url=context.models.bundle_base_url, timeout_s=context.models.fleet_timeout_s,
        )  # fmt: skip
    for line in result.lines():
        print(line)
    return 0 if result.complete else 6


def _retrain(args: argparse.Namespace) -> int:
    context = _Context(args)
    every_s = (args.every_h or context.models.retrain_interval_h) * 3600.0
    while True:
        version = _train_once(context, args.run, args.lake_days, None)
        if version is not None:
            _roll_out(context, version)
        if args.once:
            return 0
        log.info("next retraining in %.1f h", every_s / 3600.0)
        time.sleep(every_s)


def _serve(args: argparse.Namespace) -> int:
    context = _Context(args)
    models = context.models
    server = BundleServer(
        models.artifact_dir, urls=context.bundle_urls(), host=models.bundle_server_host,
        port=models.bundle_server_port,
    )  # fmt: skip
    print(f"serving signed bundle URLs from {models.artifact_dir} at {server.base_url}")
    try:
        server.serve_forever()
    finally:
        server.close()
    return 0


def _show(args: argparse.Namespace) -> int:
    context = _Context(args)
    for version in context.registry.versions(context.model_id):
        lead = version.metrics.get("holdout_median_lead_h")
        fa = version.metrics.get("holdout_false_alarms_per_compressor_month")
        print(
            f"{version.model_id}@{version.version}  {version.status:<9}  "
            f"false alarms/compressor-month {fa if fa is None else round(fa, 2)}  "
            f"median lead {lead if lead is None else round(lead)} h"
        )
    for station, row in sorted(context.registry.deployments(context.model_id).items()):
        print(f"  {station}: running {row['running']}, offered {row['offered']}, {row['state']}")
    return 0
