"""On-site annunciation against in-process Modbus devices: a panel goes silent, the horn sounds,
the technician acknowledges, the panel answers again, the beacon goes out. The local page and
`altaviz-edge status` show it all without a hub."""

from __future__ import annotations

import json
import time as _time
import urllib.request
from pathlib import Path
from typing import Any

import pytest
from pymodbus.constants import ExcCodes

from edge_agent.agent import Agent
from edge_agent.annunciation import AnnunciationSettings, OpenEpisode, desired_outputs
from edge_agent.cli import main as edge_main
from edge_agent.settings import EdgeSettings
from shared.errors import ConfigError
from shared.messages import AlarmSeverity
from shared.register_map import find_register_map
from tests.edge_agent.io_device import IoDevice
from tests.edge_agent.panels import PanelServer
from tests.edge_agent.test_modbus import HEALTHY
from tests.support.services import free_port
from tests.support.stack import AgentThread, wait_until

HORN, BEACON, ACK_COIL = 3, 10, 7


def _annunciation(device: IoDevice, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "host": "127.0.0.1",
        "port": device.port,
        "poll_interval_s": 0.1,
        "timeout_s": 0.5,
        "outputs": [
            {"name": "horn", "kind": "coil", "address": HORN, "min_severity": "critical"},
            {"name": "beacon", "kind": "holding", "address": BEACON, "on_value": 2,
             "min_severity": "warning", "silence_on_ack": False},
        ],
        "ack": {"kind": "coil", "address": ACK_COIL},
        **extra,
    }  # fmt: skip


def _settings(root: Path, panel_port: int, annunciation: dict[str, Any]) -> EdgeSettings:
    root.mkdir(parents=True, exist_ok=True)
    (root / "edge.yaml").write_text("{}")  # not the repository's config/edge.yaml
    return EdgeSettings.load(
        root / "edge.yaml",
        org_id="org-a",
        station_id="STATION-1",
        mqtt={"port": free_port()},  # no hub: everything here works on site alone
        buffer={"path": root / "buffer.duckdb"},
        scoring={"thresholds_file": None},
        http={"port": 0},
        source={
            "kind": "modbus",
            "options": {
                "poll_interval_s": 0.05,
                "panels": [
                    {"compressor_id": "C01", "register_map": "standard-scaled",
                     "host": "127.0.0.1", "port": panel_port, "poll_interval_s": 0.1,
                     "timeout_s": 0.2, "retries": 0, "reconnect_max_s": 0.2},
                ],
            },
        },
        annunciation=annunciation,
    )  # fmt: skip


def _episodes(agent: Agent) -> list[dict[str, Any]]:
    return list(agent.snapshot.get("alarms", {}).get("recent", []))


def test_alarm_sounds_horn_until_acknowledged_and_beacon_until_cleared(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    panel = PanelServer(find_register_map("standard-scaled"), HEALTHY).start()
    with IoDevice() as device:
        settings = _settings(tmp_path, panel.port, _annunciation(device))
        agent = Agent(settings)
        with AgentThread(agent):
            wait_until(lambda: agent.snapshot.get("last_values"), timeout=10, what="readings")
            wait_until(
                lambda: (agent.snapshot.get("annunciation") or {}).get("state") == "ok",
                timeout=10,
                what="the annunciation device answering",
            )
            assert not device.coil(HORN) and device.register(BEACON) == 0

            panel.stop()  # the panel goes silent: comm loss is a critical episode
            wait_until(lambda: device.coil(HORN), timeout=15, what="the horn")
            assert device.register(BEACON) == 2
            wait_until(lambda: _episodes(agent), timeout=5, what="the episode in the status")
            open_episode = _episodes(agent)[0]
            assert open_episode["condition"] == "panel_comm_loss"
            assert open_episode["acknowledged_at"] is None

            # The local page, as a phone on the station LAN reads it.
            address = agent.http.address if agent.http else ""
            with urllib.request.urlopen(address + "/", timeout=5) as response:
                page = response.read().decode()
                assert response.headers["Content-Type"].startswith("text/html")
            assert "width=device-width" in page and "ACTIVE" in page and "C01" in page
            assert "http://" not in page.replace(address, "")  # nothing loaded from elsewhere
            assert "horn on" in page
            with urllib.request.urlopen(address + "/metrics", timeout=5) as response:
                metrics = response.read().decode()
            assert 'altaviz_edge_annunciation_output_on{output="horn"} 1' in metrics
            assert "altaviz_edge_storage_ok 1" in metrics

            device.set_coil(ACK_COIL, True)  # the technician presses acknowledge
            wait_until(lambda: not device.coil(HORN), timeout=10, what="the horn silenced")
            assert device.register(BEACON) == 2, "the beacon stays lit until the episode clears"
            assert not device.coil(ACK_COIL), "the ack coil is reset for the next press"
            wait_until(
                lambda: _episodes(agent)[0]["acknowledged_at"] is not None,
                timeout=5,
                what="the acknowledgement recorded on the episode",
            )

            panel.start()  # it answers again: the episode clears, the beacon goes out
            wait_until(lambda: device.register(BEACON) == 0, timeout=15, what="beacon off")
            assert not device.coil(HORN)
            wait_until(
                lambda: _episodes(agent)[0]["cleared_at"] is not None, timeout=5, what="cleared"
            )
        panel.stop()

    stored = agent.alarm_store  # closed with the agent; the status file keeps the record
    del stored
    status_file = settings.status_file
    document = json.loads(status_file.read_text())
    assert document["alarms"]["recent"][0]["acknowledged_at"]
    config = tmp_path / "edge.yaml"
    config.write_text(f"buffer:\n  path: {settings.buffer.path}\n")
    assert edge_main(["status", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "horn      ok" in out and "beacon off" in out
    assert "C01" in out and "panel_comm_loss" in out


def test_unreachable_or_refusing_device_is_reported_not_fatal(tmp_path: Path) -> None:
    panel = PanelServer(find_register_map("standard-scaled"), HEALTHY).start()
    try:
        dead = {**_annunciation(IoDevice()), "port": free_port()}
        agent = Agent(_settings(tmp_path / "a", panel.port, dead))
        with AgentThread(agent):
            wait_until(
                lambda: (agent.snapshot.get("annunciation") or {}).get("state") == "comm_error",
                timeout=10,
                what="comm_error reported",
            )
            wait_until(lambda: agent.snapshot.get("last_values"), timeout=5, what="readings")
        with IoDevice() as device:
            device.refuse = ExcCodes.ILLEGAL_ADDRESS
            agent = Agent(_settings(tmp_path / "b", panel.port, _annunciation(device)))
            with AgentThread(agent):
                wait_until(
                    lambda: (
                        (agent.snapshot.get("annunciation") or {}).get("state")
                        == "device_exception"
                    ),
                    timeout=10,
                    what="device_exception reported",
                )
                assert "exception code 2" in agent.snapshot["annunciation"]["last_error"]
    finally:
        panel.stop()


def test_bad_mapping_is_one_clear_error_at_start(tmp_path: Path) -> None:
    clash = {
        "enabled": True, "host": "127.0.0.1",
        "outputs": [{"name": "horn", "address": 1}, {"name": "strobe", "address": 1}],
    }  # fmt: skip
    with pytest.raises(ConfigError, match="coil 1 is already output 'horn'"):
        EdgeSettings.load(None, annunciation=clash)
    ack_on_output = {**clash, "outputs": [{"name": "horn", "address": 1}]}
    ack_on_output["ack"] = {"kind": "coil", "address": 1}
    with pytest.raises(ConfigError, match="ack coil 1 is also output 'horn'"):
        EdgeSettings.load(None, annunciation=ack_on_output)
    with pytest.raises(ConfigError, match="needs `host`"):
        EdgeSettings.load(
            None, annunciation={"enabled": True, "outputs": [{"name": "h", "address": 0}]}
        )


def test_outputs_follow_severity_and_acknowledgement() -> None:
    settings = AnnunciationSettings.model_validate(
        {k: v for k, v in _annunciation(IoDevice()).items() if k != "ack"}
    )
    warning = OpenEpisode("e1", AlarmSeverity.WARNING, acknowledged=False)
    critical_acked = OpenEpisode("e2", AlarmSeverity.CRITICAL, acknowledged=True)
    assert desired_outputs(settings.outputs, []) == {"horn": False, "beacon": False}
    assert desired_outputs(settings.outputs, [warning]) == {"horn": False, "beacon": True}
    assert desired_outputs(settings.outputs, [critical_acked]) == {"horn": False, "beacon": True}
    assert desired_outputs(settings.outputs, [], station_fault=True) == {
        "horn": True,
        "beacon": True,
    }


def test_push_button_on_a_discrete_input_acknowledges_once_per_press() -> None:
    from edge_agent.annunciation import Annunciator

    with IoDevice() as device:
        settings = AnnunciationSettings.model_validate(
            {**_annunciation(device), "ack": {"kind": "discrete", "address": 5}}
        )
        annunciator = Annunciator(settings)
        annunciator.start()
        try:
            annunciator.set_episodes([OpenEpisode("e1", AlarmSeverity.CRITICAL, False)])
            wait_until(lambda: device.coil(HORN), timeout=10, what="the horn")
            device.press(5)  # held down for several polls: one acknowledgement
            wait_until(lambda: annunciator.last_ack_at is not None, timeout=10, what="a press")
            _time.sleep(0.5)
            assert len(annunciator.take_acks()) == 1
            device.press(5, closed=False)
            _time.sleep(0.3)
            device.press(5)
            wait_until(lambda: len(annunciator.take_acks()) == 1, timeout=10, what="a 2nd press")
        finally:
            annunciator.stop()
