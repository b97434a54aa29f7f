"""`altaviz-hub stations provision|revoke ORG STATION`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any


def add_commands(add: Any) -> None:
    """Register `stations provision|revoke` (`add(name, **kwargs)` makes a sub-command)."""
    for action, help_text in (
        ("provision", "create a station's identity, broker password, ACL lines and edge config"),
        ("revoke", "remove a station's broker credentials and ACL lines"),
    ):
        command = add(action, help=help_text)
        command.set_defaults(action=action)
        command.add_argument("org", help="organisation id (must exist at this hub)")
        command.add_argument("station", help="station id")
        if action == "provision":
            command.add_argument("--name", help="display name (default: the id)")
            command.add_argument(
                "--out", type=Path, help="write the edge config here (mode 0600), not stdout"
            )


def run(args: argparse.Namespace, settings: Any) -> int:
    from hub.db.migrate import upgrade
    from hub.db.session import make_engine, session_scope
    from hub.stations.service import provision, revoke

    if settings.pipeline.auto_migrate:
        upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    try:
        with session_scope(engine, org_id=args.org) as session:
            if args.action == "revoke":
                reloaded = revoke(
                    session=session,
                    settings=settings.stations,
                    org_id=args.org,
                    station_id=args.station,
                )
                print(
                    f"revoked {args.org}/{args.station}: credentials and ACL lines removed"
                    + ("; broker reloaded" if reloaded else "; reload the broker (SIGHUP)"),
                    file=sys.stderr,
                )
                return 0
            result = provision(
                session=session,
                settings=settings.stations,
                org_id=args.org,
                station_id=args.station,
                name=args.name,
            )
    finally:
        engine.dispose()
    if args.out:
        fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(result.edge_config)
    else:
        sys.stdout.write(result.edge_config)
    print(
        f"provisioned {result.org_id}/{result.station_id} as broker user {result.username}"
        + ("; broker reloaded" if result.broker_reloaded else "; reload the broker (SIGHUP)")
        + (f"; edge config in {args.out}" if args.out else ""),
        file=sys.stderr,
    )
    return 0
