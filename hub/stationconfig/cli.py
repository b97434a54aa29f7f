"""`altaviz-hub stations config show|diff|push STATION`: a station's configuration from a shell."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(add: Any) -> None:
    """Register `stations config show|diff|push` (`add(name, **kwargs)` makes a sub-command)."""
    stations = add("config", help="configuration pushed to the station's agent")
    stations.add_argument(
        "action",
        choices=["show", "diff", "push"],
        help="show: desired vs reported; diff FILE: what a push would change; "
        "push FILE: sign, publish and wait for the station's report",
    )
    stations.add_argument("station", help="station id")
    stations.add_argument("--org", required=True, help="the station's organisation id")
    stations.add_argument(
        "--file", type=Path, help="YAML with the sections to set (thresholds, source_options, "
        "register_maps, uplink, annunciation); '-' reads standard input"
    )  # fmt: skip
    stations.add_argument("--by", default="cli", help="who pushes (recorded in the document)")
    stations.add_argument(
        "--wait", type=float, default=60.0, help="seconds to wait for the station's report"
    )


def run(args: argparse.Namespace) -> int:
    from hub.db.migrate import upgrade
    from hub.db.session import make_engine, session_scope
    from hub.settings import HubSettings
    from hub.stationconfig import service
    from shared.cli_support import configure_logging

    settings = HubSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    if settings.pipeline.auto_migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    org, station = args.org, args.station
    if args.action == "show":
        with session_scope(engine, org_id=org) as session:
            wanted = service.latest(session=session, org_id=org, station_id=station)
            said = service.report(session=session, org_id=org, station_id=station)
            print(
                f"desired   {f'version {wanted.version} by {wanted.issued_by}' if wanted else 'none'}"
            )
            if said is not None:
                reason = f": {said.reason}" if said.reason else ""
                print(f"reported  version {said.version} {said.outcome}, runs version "
                      f"{said.running_version}, at {said.reported_at}{reason}")  # fmt: skip
            else:
                print("reported  nothing yet")
            print(service.sections_yaml(service.desired_sections(wanted)), end="")
        return 0
    text = sys.stdin.read() if str(args.file) == "-" else _read(args.file)
    sections = service.parse_sections(text)
    if args.action == "diff":
        with session_scope(engine, org_id=org) as session:
            wanted = service.latest(session=session, org_id=org, station_id=station)
            lines = service.diff(old=service.desired_sections(wanted), new=sections)
        print("\n".join(lines) if lines else "no change")
        return 0
    return _push(settings, engine, org, station, sections, args)


def _read(path: Path | None) -> str:
    from hub.stationconfig.errors import InvalidConfigInput

    if path is None:
        raise InvalidConfigInput("give the configuration with --file FILE (or - for stdin)")
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InvalidConfigInput(f"{path}: {exc.strerror}") from None


def _push(settings: Any, engine: Any, org: str, station: str, sections: dict[str, Any],
          args: argparse.Namespace) -> int:  # fmt: skip
    from hub.db.session import session_scope
    from hub.models_lifecycle.keys import signing_key
    from hub.stationconfig import link, service

    key = signing_key(settings.models, development=settings.development)
    with session_scope(engine, org_id=org) as session:
        signed = service.prepare(
            session=session, org_id=org, station_id=station, sections=sections,
            issued_by=args.by, signing_key=key,
        )  # fmt: skip
        link.publish(settings.mqtt, signed)  # a failure rolls the version back
    version = signed.document.version
    print(f"published configuration version {version} for {org}/{station}")
    if args.wait <= 0:
        return 0
    said = link.wait_for_report(
        settings.mqtt, org_id=org, station_id=station, version=version, timeout_s=args.wait
    )
    if said is None:
        print(
            f"no report from {station} within {args.wait:.0f} s (offline? it applies on reconnect)"
        )
        return 1
    with session_scope(engine, org_id=org) as session:
        service.record_report(session=session, org_id=org, station_id=station, said=said)
    reason = f": {said.reason}" if said.reason else ""
    print(
        f"{station}: version {version} {said.outcome.value}, runs version {said.running_version}{reason}"
    )
    return 0 if said.outcome.value == "applied" else 1
