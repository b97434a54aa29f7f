from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.settings import EdgeSettings
from hub.settings import HubSettings
from shared.errors import ConfigError

REPO = Path(__file__).resolve().parents[2]


def test_repository_defaults_load() -> None:
    edge = EdgeSettings.load(REPO / "config" / "edge.yaml")
    hub = HubSettings.load(REPO / "config" / "hub.yaml")
    assert edge.station_id == "STATION-1" and edge.uplink.batch_max_rows == 10_000
    assert hub.spark.master == "local[2]"


def test_environment_overrides_yaml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text("station_id: FROM-FILE\nuplink:\n  batch_max_rows: 500\n")
    monkeypatch.setenv("ALTAVIZ_EDGE_UPLINK__BATCH_MAX_ROWS", "700")
    monkeypatch.setenv("ALTAVIZ_EDGE_MQTT__HOST", "hub.example.com")
    settings = EdgeSettings.load(config)
    assert settings.station_id == "FROM-FILE"
    assert settings.uplink.batch_max_rows == 700
    assert settings.mqtt.host == "hub.example.com"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "uplink:\n  batch_max_rows: lots\n",
            "uplink.batch_max_rows: Input should be a valid integer",
        ),
        ("uplink:\n  batch_max_rowz: 5\n", "uplink.batch_max_rowz: Extra inputs are not permitted"),
        ("station_id: 'bad/id'\n", "station_id: String should match pattern"),
        ("uplink: [1, 2\n", ":2:1: invalid YAML"),
        ("- a list\n", "top level must be a mapping"),
    ],
)
def test_bad_config_names_file_key_and_problem(tmp_path: Path, text: str, message: str) -> None:
    config = tmp_path / "edge.yaml"
    config.write_text(text)
    with pytest.raises(ConfigError) as caught:
        EdgeSettings.load(config)
    assert str(caught.value).startswith(str(config))
    assert message in str(caught.value)


def test_bad_env_override_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ALTAVIZ_EDGE_UPLINK__INFLIGHT_BATCHES", "-3")
    with pytest.raises(ConfigError, match="environment ALTAVIZ_EDGE_UPLINK__INFLIGHT_BATCHES"):
        EdgeSettings.load(REPO / "config" / "edge.yaml")


@pytest.mark.parametrize(
    "command", [["-m", "edge_agent", "run"], ["-m", "hub", "--config", "{cfg}", "ingest"]]
)
def test_cli_prints_one_line_and_exits_2(tmp_path: Path, command: list[str]) -> None:
    config = tmp_path / "bad.yaml"
    config.write_text("mqtt:\n  port: 99999\n")
    argv = [part.replace("{cfg}", str(config)) for part in command]
    if "run" in argv:
        argv += ["--config", str(config)]
    result = subprocess.run([sys.executable, *argv], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert (
        str(config) in lines[0]
        and "mqtt.port" in lines[0]
        and "less than or equal to 65535" in lines[0]
    )
    assert "Traceback" not in result.stderr


def test_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="file not found"):
        HubSettings.load(tmp_path / "nope.yaml")
