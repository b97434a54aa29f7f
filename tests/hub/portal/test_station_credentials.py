"""Station MQTT credentials work at a real mosquitto, only under the station's own prefix."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as paho
import pytest

from hub.portal.fleet.credentials import (
    mosquitto_files,
    mosquitto_hash,
    topic_prefix,
    username_for,
    verify_mosquitto_hash,
)
from tests.support.services import Mosquitto, mosquitto_binary, require

pytestmark = pytest.mark.mosquitto


def test_hash_round_trip() -> None:
    stored = mosquitto_hash("s3cret-password")
    assert stored.startswith("$7$101$")
    assert verify_mosquitto_hash(stored, "s3cret-password")
    assert not verify_mosquitto_hash(stored, "other")


def _connect(port: int, username: str, password: str) -> tuple[paho.Client, int]:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"t-{username}")
    client.username_pw_set(username, password)
    done = threading.Event()
    result: list[int] = []

    def on_connect(_c, _u, _f, reason_code, _p) -> None:  # type: ignore[no-untyped-def]
        result.append(int(getattr(reason_code, "value", reason_code)))
        done.set()

    client.on_connect = on_connect
    client.connect("127.0.0.1", port)
    client.loop_start()
    done.wait(5)
    return client, (result[0] if result else -1)


def test_mosquitto_accepts_station_credentials_within_their_prefix() -> None:
    require(mosquitto_binary() is not None, "mosquitto")
    # Not under pytest's private tmp dir: mosquitto started as root drops to its own user.
    tmp_path = Path(tempfile.mkdtemp(prefix="altaviz-mqtt-auth-"))
    tmp_path.chmod(0o755)
    rows = [
        ("org-a", "ST-1", username_for("org-a", "ST-1"), mosquitto_hash("pw-a-st1-long")),
        ("org-b", "ST-1", username_for("org-b", "ST-1"), mosquitto_hash("pw-b-st1-long")),
    ]
    passwords, acl = mosquitto_files(rows)
    for name, text in (("passwd", passwords), ("acl", acl)):
        (tmp_path / name).write_text(text)
        (tmp_path / name).chmod(0o644)
    broker = Mosquitto(
        tmp_path / "broker",
        extra_config=f"password_file {tmp_path / 'passwd'}\nacl_file {tmp_path / 'acl'}\n",
    )
    broker.config.write_text(
        broker.config.read_text().replace("allow_anonymous true", "allow_anonymous false")
    )
    broker.start()
    try:
        _, refused = _connect(broker.port, "org-a.ST-1", "wrong")
        assert refused != 0
        station_a, ok = _connect(broker.port, "org-a.ST-1", "pw-a-st1-long")
        assert ok == 0
        station_b, ok_b = _connect(broker.port, "org-b.ST-1", "pw-b-st1-long")
        assert ok_b == 0
        received: list[str] = []
        got = threading.Event()
        station_b.on_message = lambda _c, _u, m: (received.append(m.topic), got.set())
        station_b.subscribe("altaviz/v1/#", qos=1)  # the ACL narrows this to its own prefix
        time.sleep(0.5)
        station_a.publish(
            topic_prefix("org-b", "ST-1") + "telemetry", b"x", qos=1
        ).wait_for_publish(5)
        station_b.publish(topic_prefix("org-b", "ST-1") + "status", b"y", qos=1).wait_for_publish(5)
        got.wait(5)
        time.sleep(0.5)
        # Station A's write under B's prefix was dropped by the broker; B's own arrived.
        assert received == [topic_prefix("org-b", "ST-1") + "status"]
        for client in (station_a, station_b):
            client.loop_stop()
            client.disconnect()
    finally:
        broker.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)
