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

    config = sub.add_parser("config", help="the configuration pushed by the hub: show, roll back")
    config.add_argument("action", choices=["show", "rollback"])
    config.add_argument("--config", type=Path)
    return parser


def _run(args: argparse.Namespace) -> int:
    from edge_agent.agent import Agent
    from edge_agent.settings import EdgeSettings

    settings = EdgeSettings.load(args.config)
    configure_logging(settings.log_level, json_lines=args.json_logs)
    # pymodbus logs every timeout at ERROR; the agent reports panel state itself.
    logging.getLogger("pymodbus").setLevel(logging.CRITICAL)
    logging.getLogger("asyncua").setLevel(logging.WARNING)  # the OPC UA source reports itself
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
    lines = render_status(document, buffer_path=str(settings.buffer.path))
    print("\n".join(lines))
    return 0


def _config(args: argparse.Namespace) -> int:
    from edge_agent.remote_config import ROLLBACK_REQUEST, ConfigStore
    from edge_agent.settings import EdgeSettings

    settings = EdgeSettings.load(args.config)
    store = ConfigStore(settings.remote_config_dir)
    if args.action == "rollback":
        request = settings.remote_config_dir / ROLLBACK_REQUEST
        request.parent.mkdir(parents=True, exist_ok=True)
        request.write_text("rollback requested on site\n")
        print(
            f"rollback requested ({request}); the running agent goes back to the previous "
            "configuration within seconds (at its next start if it is stopped)"
        )
        return 0
    for label, which in (("running", "current"), ("previous", "previous")):
        signed = store.signed(which)
        if signed is None:
            print(f"{label:9} file configuration ({args.config or 'config/edge.yaml'})")
            continue
        document = signed.document
        sections = ", ".join(document.sections()) or "no sections"
        print(
            f"{label:9} version {document.version} from the hub, issued {document.issued_at} "
            f"by {document.issued_by or '-'}: {sections}"
        )
    report = store.last_report
    if report is not None:
        reason = f": {report.reason}" if report.reason else ""
        print(f"last      version {report.version} {report.outcome.value} at {report.at}{reason}")
    return 0


def _age(iso: str | None) -> str:
    if not iso:
        return "-"
    from datetime import UTC, datetime

    seconds = (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
    return f"{seconds:.0f}s ago" if seconds < 120 else f"{seconds / 60:.0f}min ago"


def render_status(doc: dict[str, Any], *, buffer_path: str) -> list[str]:
    """The at-a-glance view a technician reads on site."""
    buffer = doc.get("buffer", {})
    uplink = doc.get("uplink", {})
    alarms = doc.get("alarms", {})
    model = doc.get("model", {})
    update = doc.get("last_model_update") or {}
    running = "running" if doc.get("online") else "STOPPED"
    lines = [
        f"station   {doc.get('org_id')}/{doc.get('station_id')}  agent {doc.get('agent_version')}  "
        f"{running} (pid {doc.get('pid') or '-'}), as of {_age(doc.get('at'))}",
        f"link      {'up' if doc.get('link') == 'up' else 'DOWN (buffering)'}"
        + ("  draining backlog" if uplink.get("draining_backlog") else ""),
        f"backlog   {doc.get('backlog_readings')} reading(s) not yet acknowledged, "
        f"{doc.get('unacked_batches')} batch(es); oldest since {buffer.get('oldest_pending_at') or '-'}",
        f"buffer    {buffer.get('readings_stored')} reading(s), "
        f"{(buffer.get('usage_bytes') or 0) / 1e6:.1f} of {(doc.get('buffer_cap_bytes') or 0) / 1e6:.0f} MB "
        f"in {buffer_path}; last seq {buffer.get('last_seq')}",
    ]
    forced = buffer.get("forced_out_readings") or 0
    if forced:
        lines.append(
            f"DATA LOSS {forced} unacknowledged reading(s) forced out by the disk cap, "
            f"seq ranges {doc.get('forced_out_ranges')}"
        )
    lost = (doc.get("storage") or {}).get("lost_readings") or 0
    if lost:
        lines.append(f"DATA LOSS {lost} acknowledged reading(s) lost by a failing file system")
    if buffer.get("rejected_batches"):
        lines.append(
            f"rejected  {buffer.get('rejected_batches')} batch(es) refused by the hub (rows kept)"
        )
    model_line = (
        f"{model.get('model_id')}@{model.get('version')}"
        if model.get("version")
        else "none (threshold rules only)"
    )
    if model.get("candidate"):
        model_line += f"; shadow-scoring {model.get('candidate')}"
    lines.append(f"model     {model_line}")
    if update:
        reason = f": {update.get('reason')}" if update.get("reason") else ""
        lines.append(
            f"update    {update.get('model_id')}@{update.get('version')} {update.get('outcome')}"
            f" {_age(update.get('at'))}{reason}"
        )
    lines.append(
        f"alarms    {alarms.get('active', 0)} active, {alarms.get('unpublished', 0)} event(s) "
        "waiting for the uplink"
    )
    for alarm in alarms.get("recent", [])[:5]:
        state = "ACTIVE " if not alarm.get("cleared_at") else "cleared"
        lines.append(
            f"  {state} {alarm.get('severity'):8} {alarm.get('compressor_id')} {alarm.get('condition')}"
            f" ({alarm.get('metric') or ''} {alarm.get('value')}) since {alarm.get('raised_at')}"
        )
    panels = doc.get("panels", {})
    if panels:
        bad = {k: v for k, v in panels.items() if v.get("state") != "ok"}
        lines.append(f"panels    {len(panels) - len(bad)} of {len(panels)} answering")
        for name, panel in sorted(bad.items()):
            lines.append(f"  {name}: {panel.get('state')} ({panel.get('last_error') or '-'})")
    lines.extend(_site_lines(doc))
    if doc.get("clock_jumps"):
        lines.append(
            f"clock     {doc.get('clock_jumps')} gateway clock jump(s) detected (readings flagged)"
        )
    if doc.get("http"):
        lines.append(
            f"http      {doc.get('http')}/ (status page)  {doc.get('http')}/health  "
            f"{doc.get('http')}/metrics"
        )
    return lines


def _site_lines(doc: dict[str, Any]) -> list[str]:
    """Configuration, clock, storage, the horn/beacon and each compressor's last values."""
    from shared.schema import SENSOR_FIELDS

    lines = []
    config = doc.get("config") or {}
    if config:
        report = config.get("last_report") or {}
        last = (
            f"; last push {report.get('version')} {report.get('outcome')}"
            + (f": {report.get('reason')}" if report.get("reason") else "")
            if report
            else ""
        )
        lines.append(f"config    version {config.get('version')} ({config.get('source')}){last}")
    clock = doc.get("clock") or {}
    if clock.get("hub_skew_s") is not None or clock.get("panel_skew_s"):
        hub = clock.get("hub_skew_s")
        text = f"hub {hub:+.1f}s" if hub is not None else "hub -"
        for panel, skew in sorted((clock.get("panel_skew_s") or {}).items()):
            text += f", {panel} {skew:+.1f}s"
        lines.append(f"clock     {'SKEWED ' if clock.get('skewed') else ''}{text}")
    storage = doc.get("storage") or {}
    if storage.get("state") not in (None, "ok"):
        lines.append(
            f"STORAGE   {storage.get('state')}: {storage.get('error')}; "
            f"{storage.get('held_readings', 0)} reading(s) held in memory, "
            f"{storage.get('refused_readings', 0)} refused"
        )
    annunciation = doc.get("annunciation")
    if annunciation:
        outputs = ", ".join(
            f"{name} {o.get('written')}" for name, o in annunciation.get("outputs", {}).items()
        )
        lines.append(
            f"horn      {annunciation.get('state')} {annunciation.get('device')}: {outputs}; "
            f"last ack {annunciation.get('last_ack_at') or '-'}"
        )
    values = doc.get("last_values") or {}
    if values:
        lines.append("values    " + "  ".join(s.rsplit("_", 1)[0][:10] for s in SENSOR_FIELDS))
    for compressor, reading in values.items():
        cells = []
        for sensor in SENSOR_FIELDS:
            v = reading["values"].get(sensor) or {}
            text = "-" if v.get("value") is None else f"{v['value']:.1f}"
            if v.get("quality") != "ok":
                text += f"({v.get('quality')})"
            cells.append(text)
        lines.append(f"  {compressor:8} {reading.get('state', ''):9} " + "  ".join(cells))
    return lines


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    handlers = {"run": _run, "status": _status, "config": _config}
    return run_cli(PROG, lambda: handlers[args.command](args))


if __name__ == "__main__":
    sys.exit(main())
