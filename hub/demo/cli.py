"""The `altaviz` console script: `altaviz demo`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hub import __version__
from shared.cli_support import configure_logging, run_cli

PROG = "altaviz"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Altaviz on one machine.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command", required=True)
    demo = sub.add_parser(
        "demo",
        help="four simulated stations, their edge agents, the hub, the lakehouse and the portal",
    )
    demo.add_argument(
        "--duration", type=float, help="stop after this many seconds (default: Ctrl-C)"
    )
    demo.add_argument("--data-dir", type=Path, default=Path("var/demo"))
    demo.add_argument(
        "--scenario",
        default="prototype-7day",
        help="simulator scenario (built-in name or YAML file); fixed by the first run",
    )
    demo.add_argument(
        "--speed",
        type=float,
        default=None,
        help="simulated seconds per second (default: with --duration, fast enough for the "
        "scenario's story to end with time left to serve it; else 1800, a day in 48 s); "
        "the demo holds the clock while the lake is more than a bound behind",
    )
    demo.add_argument(
        "--interval", type=int, default=60, help="simulated seconds between readings of a unit"
    )
    demo.add_argument(
        "--pipeline-interval",
        type=float,
        default=5.0,
        help="pause between lakehouse runs (s)",
    )
    demo.add_argument("--portal-port", type=int, default=8000)
    demo.add_argument(
        "--acquisition",
        choices=("modbus", "simulated"),
        default="modbus",
        help="modbus: the agents poll the simulator's panels over Modbus TCP (one in RTU "
        "framing); simulated: each agent runs its station's simulation in-process",
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    configure_logging("WARNING")
    from hub.demo.run import Demo

    return run_cli(PROG, lambda: Demo(args).run())


if __name__ == "__main__":
    sys.exit(main())
