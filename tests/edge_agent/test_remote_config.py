"""Remote configuration over a real mosquitto: applied without losing a reading, refused when
tampered, unsigned, stale or invalid, rolled back when a panel is unreachable after the change,
and rolled back on site by the technician."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from edge_agent.agent import Agent
from edge_agent.cli import main as edge_main
from edge_agent.settings import EdgeSettings
from shared.bundle import generate_signing_key, key_id, public_key_pem
from shared.register_map import find_register_map
from shared.station_config import ConfigOutcome, StationConfigDocument
from tests.edge_agent.config_push import ConfigDesk
from tests.edge_agent.panels import PanelServer
from tests.edge_agent.test_modbus import HEALTHY
from tests.support.services import Mosquitto, free_port
from tests.support.stack import AgentThread, wait_until

pytestmark = pytest.mark.mosquitto

RULE = {"rules": [{"id": "hot_discharge", "metric": "discharge_temp_f_mean", "above": 300.0}]}


def _panel(port: int, poll_s: float = 0.1) -> dict[str, Any]:
    return {
        "compressor_id": "C01", "register_map": "standard-scaled", "host": "127.0.0.1",
        "port": port, "poll_interval_s": poll_s, "timeout_s": 0.2, "retries": 0,
        "reconnect_max_s": 0.2,
    }  # fmt: skip


def _settings(root: Path, broker_port: int, panel_port: int, key_file: Path) -> EdgeSettings:
    (root / "edge.yaml").write_text("{}")
    return EdgeSettings.load(
        root / "edge.yaml",
        org_id="org-a",
        station_id="STATION-1",
        mqtt={"port": broker_port, "reconnect_min_s": 0.2, "reconnect_max_s": 1},
        buffer={"path": root / "buffer.duckdb"},
        scoring={"thresholds_file": None},
        http={"enabled": False},
        uplink={"status_interval_s": 1},
        remote_config={"public_key_file": key_file, "dir": root / "config", "verify_s": 2},
        source={
            "kind": "modbus",
            "options": {"poll_interval_s": 0.05, "panels": [_panel(panel_port)]},
        },
    )


def _report(desk: ConfigDesk, version: int | None, outcome: ConfigOutcome) -> Any:
    wait_until(
        lambda: (r := desk.report_for(version)) is not None and r.outcome == outcome,
        timeout=15,
        what=f"version {version} {outcome.value}",
    )
    return desk.report_for(version)


def _largest_gap_s(agent: Agent) -> float:
    rows = agent.buffer.connection.execute(
        "SELECT epoch(timestamp) FROM readings WHERE compressor_id = 'C01' ORDER BY seq"
    ).fetchall()
    return float(np.diff([r[0] for r in rows]).max())


def test_configuration_pushed_applied_refused_and_rolled_back(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    key = generate_signing_key()
    key_file = tmp_path / "hub.pem"
    key_file.write_bytes(public_key_pem(key))
    other_key = generate_signing_key()
    panel = PanelServer(find_register_map("standard-scaled"), HEALTHY).start()
    desk = ConfigDesk(mosquitto.port)
    settings = _settings(tmp_path, mosquitto.port, panel.port, key_file)
    agent = Agent(settings)
    try:
        with AgentThread(agent):
            wait_until(lambda: agent.uplink.connected, timeout=10, what="the agent's link")
            wait_until(lambda: agent.panels()["C01"].state == "ok", timeout=10, what="C01")

            # 1. Applied: thresholds, batch size, a new poll interval (a new source), no gap.
            desk.push(key, version=1, thresholds=RULE, uplink={"batch_max_rows": 50},
                      source_options={"poll_interval_s": 0.05, "panels": [_panel(panel.port, 0.2)]})  # fmt: skip
            report = _report(desk, 1, ConfigOutcome.APPLIED)
            assert report.running_version == 1
            assert agent.settings.uplink.batch_max_rows == 50
            assert [r.id for r in agent.scorer.thresholds.rules] == ["hot_discharge"]
            wait_until(lambda: agent.snapshot["config_version"] == 1, timeout=15, what="status")
            # Polls every 0.1-0.2 s; a swap that dropped the old source's readings or paused
            # polling (for the 2 s watch) leaves a longer hole. (Generous for a loaded machine.)
            assert _largest_gap_s(agent) < 1.5, "readings lost across the change"

            # 2. Tampered after signing, 3. signed by another key, 4. unsigned: refused.
            signed = desk.push(key, version=2, uplink={"batch_max_rows": 60})
            tampered = signed.model_copy(
                update={"document": signed.document.model_copy(update={"version": 3})}
            )
            desk.publish_raw(tampered.model_dump_json().encode())
            assert "does not verify" in (_report(desk, 3, ConfigOutcome.REFUSED).reason or "")
            desk.push(other_key, version=4, uplink={"batch_max_rows": 70})
            assert "does not verify" in (_report(desk, 4, ConfigOutcome.REFUSED).reason or "")
            desk.publish_raw(
                b'{"document": {"org_id": "org-a", "station_id": "STATION-1", "version": 9}}'
            )
            assert _report(desk, 9, ConfigOutcome.REFUSED).reason == "unsigned document"
            # Version 2 was applied before the tampered copy replaced it on the topic.
            _report(desk, 2, ConfigOutcome.APPLIED)
            assert agent.settings.uplink.batch_max_rows == 60

            # 5. Stale: a lower version, even correctly signed.
            desk.push(key, version=1, uplink={"batch_max_rows": 10})
            assert "stale" in (_report(desk, 1, ConfigOutcome.REFUSED).reason or "")

            # 6. Invalid: an overlapping register map, and a section the agent refuses.
            base = StationConfigDocument(
                org_id="org-a", station_id="STATION-1", version=10, signing_key_id=key_id(key)
            ).model_dump(mode="json")
            bad_map = find_register_map("standard-scaled").model_dump(mode="json")
            bad_map["points"][1]["address"] = bad_map["points"][0]["address"]
            desk.push_signed_dict(key, {**base, "register_maps": {"standard-scaled": bad_map}})
            assert "already used" in (_report(desk, 10, ConfigOutcome.REFUSED).reason or "")
            desk.push_signed_dict(key, {**base, "version": 11, "uplink": {"batch_max_rows": 0}})
            reason = _report(desk, 11, ConfigOutcome.REFUSED).reason or ""
            assert "batch_max_rows" in reason
            assert agent.settings.uplink.batch_max_rows == 60, "the running configuration stays"

            # 7. A panel unreachable after the change: rolled back to version 2.
            dead = _panel(free_port())
            desk.push(key, version=12, source_options={"panels": [dead]})
            report = _report(desk, 12, ConfigOutcome.ROLLED_BACK)
            assert "C01" in (report.reason or "") and report.running_version == 2
            wait_until(lambda: agent.panels()["C01"].state == "ok", timeout=10, what="C01 again")
            assert agent.settings.source.options["panels"][0]["port"] == panel.port

            # 8. The technician rolls back on site: the previous version... here the file's.
            config_file = tmp_path / "edge.yaml"
            config_file.write_text(f"remote_config:\n  dir: {tmp_path / 'config'}\n")
            assert edge_main(["config", "rollback", "--config", str(config_file)]) == 0
            report = _report(desk, 2, ConfigOutcome.ROLLED_BACK)
            assert report.reason == "rolled back on site by the technician"
            wait_until(lambda: agent.config.running.version == 0, timeout=5, what="file config")
            assert agent.settings.uplink.batch_max_rows == settings.uplink.batch_max_rows
            # The retained document (version 12) is not applied again after the rollback.
            assert edge_main(["config", "show", "--config", str(config_file)]) == 0
            shown = capsys.readouterr().out
            assert "running   file configuration" in shown and "rolled_back" in shown
    finally:
        desk.close()
        panel.stop()
