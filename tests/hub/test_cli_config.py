"""Every `altaviz-hub` sub-command takes --config after its name as well as before, and a
service started with a missing or malformed setting exits at once naming the setting."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hub.cli import _parser

REPO = Path(__file__).resolve().parents[2]

COMMANDS = [
    ["ingest"],
    ["pipeline", "--once"],
    ["lake", "report"],
    ["db", "current"],
    ["portal"],
    ["broker"],
]


@pytest.mark.parametrize("command", COMMANDS, ids=lambda c: c[0])
def test_config_goes_before_or_after_the_sub_command(command: list[str]) -> None:
    before = _parser().parse_args(["--config", "a.yaml", "--json-logs", *command])
    after = _parser().parse_args([*command, "--config", "a.yaml", "--json-logs"])
    neither = _parser().parse_args(command)
    assert before.config == after.config == Path("a.yaml")
    assert before.json_logs and after.json_logs
    assert neither.config is None and not neither.json_logs
    # after the sub-command wins over before it
    both = _parser().parse_args(["--config", "a.yaml", *command, "--config", "b.yaml"])
    assert both.config == Path("b.yaml")


def _run(args: list[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
    )


SERVICES = [
    ["hub", "ingest"],
    ["hub", "pipeline"],
    ["hub", "portal"],
    ["models.cli", "serve-bundles"],
]


@pytest.mark.parametrize("service", SERVICES, ids=lambda s: s[-1])
def test_a_service_with_a_malformed_setting_exits_at_once_naming_it(
    service: list[str], tmp_path: Path
) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("mqtt:\n  port: not-a-port\n")
    started = time.monotonic()
    result = _run([*service, "--config", str(config)])
    assert time.monotonic() - started < 30
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "mqtt.port" in lines[0] and str(config) in lines[0]


def test_a_missing_secret_outside_development_is_named(tmp_path: Path) -> None:
    """The portal needs its secret key; other services do not read it and do not ask."""
    service = ["hub", "portal"]
    config = tmp_path / "hub.yaml"
    config.write_text("development: false\n")
    result = _run([*service, "--config", str(config)])
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert "portal.secret_key" in line


def test_a_malformed_environment_variable_is_named(tmp_path: Path) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text("{}\n")
    result = _run(
        ["hub", "ingest", "--config", str(config)],
        env={"ALTAVIZ_HUB_OBSERVABILITY__TRACES": "zipkin"},
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "ALTAVIZ_HUB_OBSERVABILITY__TRACES" in line and "observability.traces" in line
