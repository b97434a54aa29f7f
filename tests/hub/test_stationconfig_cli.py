"""`altaviz-hub stations config`: a clear error for bad input, a diff before a push."""

from __future__ import annotations

import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import yaml

from hub.cli import main
from hub.db.migrate import upgrade
from hub.db.models import Organization, Station
from hub.db.session import make_engine, session_scope
from shared.bundle import load_private_key, load_public_key, public_key_pem
from shared.station_config import SignedStationConfig, verify_config
from tests.support.services import Mosquitto


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "hub.yaml"
    config.write_text(
        yaml.safe_dump(
            {"database_url": f"sqlite:///{tmp_path / 'serving.db'}", "data_dir": str(tmp_path)}
        )
    )
    return config


def test_diff_shows_what_a_push_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sections = tmp_path / "station.yaml"
    sections.write_text(yaml.safe_dump({"uplink": {"batch_max_rows": 500}}))
    args = ["--config", str(_config(tmp_path)), "stations", "config"]
    assert main([*args, "diff", "STATION-1", "--org", "org-a", "--file", str(sections)]) == 0
    out = capsys.readouterr().out
    assert "+uplink:" in out and "+  batch_max_rows: 500" in out
    assert main([*args, "show", "STATION-1", "--org", "org-a"]) == 0
    assert "desired   none" in capsys.readouterr().out


def test_unknown_section_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sections = tmp_path / "station.yaml"
    sections.write_text("thresholds: {}\nbatch_size: 10\n")
    args = ["--config", str(_config(tmp_path)), "stations", "config", "push", "STATION-1"]
    assert main([*args, "--org", "org-a", "--file", str(sections)]) == 2
    assert "unknown section(s) ['batch_size']" in capsys.readouterr().err


@pytest.mark.mosquitto
def test_push_signs_and_publishes_retained(
    tmp_path: Path, mosquitto: Mosquitto, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "hub.yaml"
    config.write_text(yaml.safe_dump({
        "database_url": f"sqlite:///{tmp_path / 'serving.db'}", "data_dir": str(tmp_path),
        "mqtt": {"port": mosquitto.port},
        # A generated signing key is a development convenience (production names its key).
        "development": True, "models": {"dev_signing_key_file": str(tmp_path / "dev-key.pem")},
    }))  # fmt: skip
    upgrade(f"sqlite:///{tmp_path / 'serving.db'}")
    with session_scope(make_engine(f"sqlite:///{tmp_path / 'serving.db'}")) as session:
        session.add(Organization(id="org-a", name="Org A"))
        session.flush()
        session.add(Station(org_id="org-a", id="STATION-1", name="Karnes City"))
    sections = tmp_path / "station.yaml"
    sections.write_text(yaml.safe_dump({"uplink": {"batch_max_rows": 500}}))
    args = ["--config", str(config), "stations", "config", "push", "STATION-1", "--org", "org-a"]
    assert main([*args, "--file", str(sections), "--wait", "0", "--by", "ops"]) == 0
    assert "published configuration version 1 for org-a/STATION-1" in capsys.readouterr().out

    received: list[bytes] = []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, message: received.append(message.payload)
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe("altaviz/v1/org-a/STATION-1/config", qos=1)
    client.loop_start()
    deadline = time.monotonic() + 10
    while not received and time.monotonic() < deadline:
        time.sleep(0.05)
    client.loop_stop()
    signed = SignedStationConfig.model_validate_json(received[0])  # retained for the station
    assert signed.document.version == 1 and signed.document.issued_by == "ops"
    assert signed.document.uplink == {"batch_max_rows": 500}
    key = load_public_key(public_key_pem(load_private_key(tmp_path / "dev-key.pem")))
    verify_config(signed, key)
