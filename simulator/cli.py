"""`altaviz-sim`: generate histories, stream live readings, serve Modbus or OPC UA panels."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from shared.cli_support import configure_logging, run_cli
from shared.fleet import load_fleet
from simulator.engine import DEFAULT_CHUNK_CELLS, Simulation
from simulator.errors import OutputError, PanelError, ScenarioError
from simulator.live import LiveClock, LiveFeed, SharedClock, rows
from simulator.panels import PanelFault, PanelServers
from simulator.scenario import (
    BUILTIN_SCENARIOS,
    Scenario,
    load_scenario,
    parse_duration,
    parse_time,
    scenario_document,
)

PROG = "altaviz-sim"


def _add_run_options(parser: argparse.ArgumentParser, *, default_scenario: str) -> None:
    parser.add_argument("--fleet", type=Path, help="fleet file (default: config/fleet.yaml)")
    parser.add_argument(
        "--scenario",
        default=default_scenario,
        help=f"built-in scenario ({', '.join(BUILTIN_SCENARIOS)}) or a YAML file (default: {default_scenario})",
    )
    parser.add_argument("--seed", type=int, help="override the scenario's seed")
    parser.add_argument(
        "--start", help="override the scenario's start (ISO time, e.g. 2026-07-06T00:00:00Z)"
    )
    parser.add_argument(
        "--station",
        action="append",
        dest="stations",
        help="simulate only this station (repeatable)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__)
    parser.add_argument("--log-level", default="INFO")
    sub = parser.add_subparsers(dest="command", required=True)

    generate = sub.add_parser("generate", help="write a history (Parquet) with its ground truth")
    _add_run_options(generate, default_scenario="healthy")
    generate.add_argument("--out", type=Path, required=True, help="output directory")
    generate.add_argument("--duration", help="override the scenario's duration (e.g. 90d, 12h)")
    generate.add_argument(
        "--resolution", help="seconds between readings of a unit (e.g. 60, 1s, 1m)"
    )
    generate.add_argument(
        "--events-only", action="store_true", help="only the event tables (no readings/truth)"
    )
    generate.add_argument("--force", action="store_true", help="replace a previous run in --out")
    generate.add_argument(
        "--chunk-cells",
        type=int,
        default=DEFAULT_CHUNK_CELLS,
        help="units x instants per chunk (memory bound)",
    )

    stream = sub.add_parser(
        "stream", help="print live readings as JSON lines (real-time or accelerated)"
    )
    _add_run_options(stream, default_scenario="healthy")
    stream.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per second (default 1)"
    )
    stream.add_argument(
        "--interval", type=int, default=1, help="simulated seconds between readings (default 1)"
    )
    stream.add_argument("--duration", type=float, help="stop after this many wall-clock seconds")
    stream.add_argument("--limit", type=int, help="stop after this many readings")

    serve = sub.add_parser("serve-modbus", help="serve every station's panel over Modbus TCP")
    _add_run_options(serve, default_scenario="healthy")
    serve.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per second; 0 freezes time"
    )
    serve.add_argument("--host", help="listen on this address instead of each station's panel host")
    serve.add_argument(
        "--port-offset", type=int, default=0, help="add this to every station's panel port"
    )
    serve.add_argument("--duration", type=float, help="stop after this many wall-clock seconds")
    serve.add_argument(
        "--interval", type=int, default=1, help="simulated seconds between a panel's values"
    )
    serve.add_argument(
        "--clock-file",
        type=Path,
        help="follow simulated time paced by another process (a ClockSegment JSON file; "
        "--speed is then ignored)",
    )
    serve.add_argument(
        "--lockstep-wait",
        type=float,
        metavar="SECONDS",
        help="hold each instant until every unit has been polled (at most this long), so a "
        "gateway sees every value however fast simulated time runs; a panel no gateway has "
        "been connected to for this long follows the clock (a stopped gateway misses it)",
    )
    serve.add_argument(
        "--rtu",
        action="append",
        default=[],
        metavar="STATION",
        help="this station's panel answers in RTU framing over TCP; repeatable",
    )
    serve.add_argument(
        "--timeout-unit",
        action="append",
        default=[],
        metavar="STATION:UNIT",
        help="this unit never answers (UNIT '*' = the whole panel); repeatable",
    )
    serve.add_argument(
        "--exception-unit",
        action="append",
        default=[],
        metavar="STATION:UNIT[:CODE]",
        help="this unit answers with a Modbus exception (default code 4); repeatable",
    )

    opcua = sub.add_parser(
        "serve-opcua", help="serve the stations' compressors as variables on an OPC UA server"
    )
    _add_run_options(opcua, default_scenario="healthy")
    opcua.add_argument(
        "--speed", type=float, default=1.0, help="simulated seconds per second; 0 freezes time"
    )
    opcua.add_argument(
        "--endpoint", default="opc.tcp://127.0.0.1:4840/altaviz/", help="opc.tcp:// URL to serve"
    )
    opcua.add_argument("--duration", type=float, help="stop after this many wall-clock seconds")

    fleet = sub.add_parser("fleet", help="print the resolved fleet (generators expanded) as YAML")
    fleet.add_argument("--fleet", type=Path, help="fleet file (default: config/fleet.yaml)")

    scenario = sub.add_parser("scenario", help="print a scenario (built-in or file) as YAML")
    scenario.add_argument(
        "name", nargs="?", help="built-in name or file; omit to list the built-ins"
    )
    return parser


def _scenario(args: argparse.Namespace, **extra: Any) -> Scenario:
    scenario = load_scenario(args.scenario)
    changes: dict[str, Any] = {"seed": args.seed, **extra}
    if args.start:
        try:
            changes["start"] = parse_time(args.start)
        except ValueError as exc:
            raise ScenarioError(f"--start: {exc}") from None
    return scenario.with_overrides(**changes)


def _generate(args: argparse.Namespace) -> int:
    extra: dict[str, Any] = {}
    try:
        if args.duration:
            extra["duration"] = parse_duration(args.duration)
        if args.resolution:
            extra["resolution_s"] = parse_duration(args.resolution)
    except ValueError as exc:
        raise ScenarioError(str(exc)) from None
    try:  # Parquet output needs Arrow, which a gateway (`.[edge]`) does not install
        from simulator.history import write_history
    except ModuleNotFoundError as exc:
        raise OutputError(
            f"generate writes Parquet with pyarrow, which is not installed ({exc}); "
            "install '.[hub]'"
        ) from None
    sim = Simulation(load_fleet(args.fleet), _scenario(args, **extra), stations=args.stations)
    started = time.monotonic()
    summary = write_history(
        sim, args.out, events_only=args.events_only, force=args.force, chunk_cells=args.chunk_cells
    )
    print(
        f"{PROG}: wrote {summary.rows:,} readings of {len(sim.units)} compressors "
        f"({sim.scenario.name}, seed {sim.scenario.seed}) to {args.out} in {time.monotonic() - started:.1f}s"
    )
    for name, entry in summary.files.items():
        print(f"  {name:28s} {entry['rows']:>12,} rows")
    return 0


def _live_start(args: argparse.Namespace, interval: int) -> datetime:
    start = parse_time(args.start) if args.start else datetime.now(UTC)
    return datetime.fromtimestamp(int(start.timestamp()) // interval * interval, UTC)


def _stream(args: argparse.Namespace) -> int:
    if args.speed <= 0 or args.interval <= 0:
        raise ScenarioError("--speed and --interval must be > 0")
    start = _live_start(args, args.interval)
    scenario = load_scenario(args.scenario).with_overrides(
        seed=args.seed, start=start, resolution_s=args.interval
    )
    sim = Simulation(load_fleet(args.fleet), scenario, stations=args.stations)
    clock = LiveClock(scenario.start_s - args.interval, speed=args.speed)
    feed = LiveFeed(
        sim,
        np.arange(len(sim.units)),
        clock=clock,
        interval_s=args.interval,
        first_s=scenario.start_s,
    )
    deadline = None if args.duration is None else time.monotonic() + args.duration
    printed = 0
    out = sys.stdout
    while deadline is None or time.monotonic() < deadline:
        chunk = feed.poll()
        if chunk is not None:
            for row in rows(sim, chunk):
                record = {
                    "station_id": row.station_id,
                    "compressor_id": row.compressor_id,
                    "timestamp": datetime.fromtimestamp(row.timestamp_us / 1e6, UTC)
                    .isoformat()
                    .replace("+00:00", "Z"),
                    "operating_state": row.operating_state,
                    **{k: None if v is None else round(v, 6) for k, v in row.values.items()},
                    **row.quality,
                    "reading_flags": row.flags,
                }
                out.write(json.dumps(record) + "\n")
                printed += 1
                if args.limit is not None and printed >= args.limit:
                    out.flush()
                    return 0
            out.flush()
        time.sleep(min(0.2, args.interval / args.speed))
    return 0


def _parse_unit_faults(values: list[str], behaviour: str) -> list[PanelFault]:
    faults = []
    for value in values:
        parts = value.split(":")
        if len(parts) < 2 or (behaviour == "timeout" and len(parts) != 2) or len(parts) > 3:
            raise PanelError(
                f"--{behaviour}-unit {value!r}: use STATION:UNIT"
                + ("" if behaviour == "timeout" else "[:CODE]")
            )
        station, unit = parts[0], parts[1]
        try:
            unit_id = None if unit == "*" else int(unit)
            code = int(parts[2]) if len(parts) == 3 else 4
        except ValueError:
            raise PanelError(f"--{behaviour}-unit {value!r}: UNIT and CODE are numbers") from None
        faults.append(PanelFault(station, unit_id, behaviour, code))
    return faults


def _serve(args: argparse.Namespace) -> int:
    if args.speed < 0:
        raise ScenarioError("--speed must be >= 0")
    if args.interval <= 0:
        raise ScenarioError("--interval must be > 0")
    start = _live_start(args, args.interval)
    scenario = load_scenario(args.scenario).with_overrides(
        seed=args.seed, start=start, resolution_s=args.interval
    )
    sim = Simulation(load_fleet(args.fleet), scenario, stations=args.stations)
    faults = [
        *_parse_unit_faults(args.timeout_unit, "timeout"),
        *_parse_unit_faults(args.exception_unit, "exception"),
    ]
    clock: LiveClock | SharedClock = (
        SharedClock(args.clock_file)
        if args.clock_file
        else LiveClock(scenario.start_s, speed=args.speed)
    )
    servers = PanelServers(
        sim,
        clock=clock,
        stations=args.stations,
        host=args.host,
        port_offset=args.port_offset,
        faults=faults,
        seed=scenario.seed,
        step_s=args.interval,
        rtu_stations=args.rtu,
        lockstep_wait_s=args.lockstep_wait,
        update_s=0.5 if args.lockstep_wait is None else min(0.5, args.lockstep_wait),
    )

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if args.duration is not None:
            loop.call_later(args.duration, stop.set)
        task = asyncio.create_task(servers.run(stop))
        while not servers.addresses and not task.done():
            await asyncio.sleep(0.01)
        if not task.done():
            for station_id, (host, port) in servers.addresses.items():
                print(
                    f"{PROG}: panel {station_id} on {host}:{port} (map {servers.panels[station_id].register_map.name})",
                    flush=True,
                )
            print(
                f"{PROG}: serving {len(servers.panels)} panel(s), "
                + (f"time from {args.clock_file}" if args.clock_file else f"time x{args.speed:g}")
                + f" from {start.isoformat()}",
                flush=True,
            )
        await task

    asyncio.run(serve())
    return 0


def _serve_opcua(args: argparse.Namespace) -> int:
    from simulator.opcua import OpcUaPanels, node_ids

    # asyncua narrates building its address space at INFO.
    logging.getLogger("asyncua").setLevel(logging.WARNING)
    if args.speed < 0:
        raise ScenarioError("--speed must be >= 0")
    start = _live_start(args, 1)
    scenario = load_scenario(args.scenario).with_overrides(
        seed=args.seed, start=start, resolution_s=1
    )
    sim = Simulation(load_fleet(args.fleet), scenario, stations=args.stations)
    clock = LiveClock(scenario.start_s, speed=args.speed)
    panels = OpcUaPanels(sim, clock=clock, endpoint=args.endpoint, stations=args.stations)

    async def serve() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        if args.duration is not None:
            loop.call_later(args.duration, stop.set)
        task = asyncio.create_task(panels.run(stop))
        while panels.instant_s is None and not task.done():
            await asyncio.sleep(0.01)
        if not task.done():
            first = panels.compressor_ids[0]
            example = node_ids(first, panels.namespace_index)["discharge_temp_f"]
            print(
                f"{PROG}: OPC UA panels on {args.endpoint}: {len(panels.compressor_ids)} "
                f"compressor(s), node ids like {example}; time x{args.speed:g} from "
                f"{start.isoformat()}",
                flush=True,
            )
        await task

    asyncio.run(serve())
    return 0


def _fleet(args: argparse.Namespace) -> int:
    fleet = load_fleet(args.fleet)
    yaml.safe_dump(fleet.to_document(), sys.stdout, sort_keys=False, allow_unicode=True)
    return 0


def _show_scenario(args: argparse.Namespace) -> int:
    if not args.name:
        for name, data in BUILTIN_SCENARIOS.items():
            print(f"{name}: {data.get('description', '')}")
        return 0
    yaml.safe_dump(
        scenario_document(load_scenario(args.name)), sys.stdout, sort_keys=False, allow_unicode=True
    )
    return 0


COMMANDS = {
    "generate": _generate,
    "stream": _stream,
    "serve-modbus": _serve,
    "serve-opcua": _serve_opcua,
    "fleet": _fleet,
    "scenario": _show_scenario,
}


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    configure_logging(args.log_level)
    return run_cli(PROG, lambda: COMMANDS[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
