"""`altaviz-edge`: run the station agent, or show its state."""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
from pathlib import Path
from typing import Any

from edge_agent import __version__
from shared.cli_support import configure_logging, run_cli

PROG = "altaviz-edge"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Altaviz station edge agent.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="poll the panels, buffer and forward to the hub")
    run.add_argument("--config", type=Path, help="YAML file (default: config/edge.yaml if present)")
    run.add_argument("--duration", type=float, help="stop after this many seconds")
    run.add_argument("--json-logs", action="store_true", help="log one JSON object per line")

    status = sub.add_parser("status", help="print link, backlog and buffer state at a glance")
    status.add_argument("--config", type=Path)
    status.add_argument("--json", action="store_true", help="print the raw status document")
    return parser


def _run(args: argparse.Namespace) -> int:
    from edge_agent.agent import Agent
    from edge_agent.settings import EdgeSettings

    settings = EdgeSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    # pymodbus logs every timeout at ERROR; the agent reports panel state itself.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    agent = Agent(settings)
    signal.signal(signal.SIGTERM, lambda *_: agent.stop())
    signal.signal(signal.SIGINT, lambda *_: agent.stop())
    agent.run(max_seconds=args.duration)
    return 0


def _status(args: argparse.Namespace) -> int:
    from edge_agent.settings import EdgeSettings

    settings = EdgeSettings.load(args.config)
    path = settings.status_file
    if not path.exists():
        print(f"no status yet at {path} (has the agent run with this config?)", file=sys.stderr)
        return 1
    document: dict[str, Any] = json.loads(path.read_text())
    if args.json:
        print(json.dumps(document, indent=2))
        return 0
    buffer = document.get("buffer", {})
    lines = [
        f"station   {document.get('org_id')}/{document.get('station_id')}  "
        f"agent {document.get('agent_version')}  {'running' if document.get('online') else 'stopped'}",
        f"link      {document.get('link')}",
        f"last seq  {buffer.get('last_seq')}",
        f"backlog   {document.get('backlog_readings')} reading(s) in "
        f"{document.get('unacked_batches')} unacknowledged batch(es); "
        f"oldest since {buffer.get('oldest_pending_at') or '-'}",
        f"rejected  {buffer.get('rejected_batches')} batch(es) refused by the hub (rows kept)",
        f"stored    {buffer.get('readings_stored')} reading(s) in {settings.buffer.path}",
        f"as of     {document.get('at')}",
    ]
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "status": _status}
    return run_cli(PROG, lambda: handlers[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
