"""`altaviz-hub stations provision|revoke` against a real mosquitto: a station gets its own
account and topics, cannot touch another station's, and is refused once revoked."""

from __future__ import annotations

import shutil
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
import yaml
from sqlalchemy import func, select

from hub.cli import main
from hub.db.migrate import upgrade
from hub.db.models import Organization, Station
from hub.db.session import make_engine, session_scope
from hub.portal.fleet.credentials import mosquitto_hash
from hub.portal.fleet.models import StationCredential
from hub.stations import broker_files
from tests.support.services import Mosquitto, mosquitto_binary, require

pytestmark = pytest.mark.mosquitto

HUB_PASSWORD = "hub-service-password"


@pytest.fixture
def workdir() -> Iterator[Path]:
    # Not under pytest's private tmp dir: mosquitto started as root drops to its own user.
    path = Path(tempfile.mkdtemp(prefix="altaviz-provision-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def _config(workdir: Path, broker: Mosquitto | None) -> Path:
    config = workdir / "hub.yaml"
    database = workdir / "serving.db"
    stations = {
        "password_file": str(workdir / "passwd"),
        "acl_file": str(workdir / "acl"),
        "broker_port": broker.port if broker else 1883,
    }
    if broker is not None:
        stations["broker_pid_file"] = str(workdir / "mosquitto.pid")
    config.write_text(
        yaml.safe_dump(
            {
                "database_url": f"sqlite:///{database}",
                "pipeline": {"seed_fleet": None},
                "stations": stations,
            }
        )
    )
    return config


def _connect(port: int, username: str, password: str) -> tuple[paho.Client, int]:
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"t-{username}-{time.time()}")
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


def _listen(client: paho.Client, pattern: str) -> list[str]:
    received: list[str] = []
    client.on_message = lambda _c, _u, m: received.append(m.topic)
    client.subscribe(pattern, qos=1)
    return received


def _provision(config: Path, org: str, station: str, out: Path) -> dict:  # type: ignore[type-arg]
    assert (
        main(["stations", "provision", org, station, "--config", str(config), "--out", str(out)])
        == 0
    )
    assert out.stat().st_mode & 0o077 == 0  # the password is for the agent's user only
    return dict(yaml.safe_load(out.read_text()))


def test_provisioned_stations_are_confined_and_a_revoked_one_is_refused(workdir: Path) -> None:
    require(mosquitto_binary() is not None, "mosquitto")
    broker = Mosquitto(
        workdir / "broker",
        extra_config=f"password_file {workdir / 'passwd'}\nacl_file {workdir / 'acl'}\n",
    )
    broker.config.write_text(
        broker.config.read_text().replace("allow_anonymous true", "allow_anonymous false")
    )
    # The hub's own service account, which the station commands leave alone.
    broker_files.set_password(workdir / "passwd", "hub", mosquitto_hash(HUB_PASSWORD))
    (workdir / "acl").write_text("user hub\ntopic readwrite altaviz/#\n")
    config = _config(workdir, broker)
    upgrade(f"sqlite:///{workdir / 'serving.db'}")
    engine = make_engine(f"sqlite:///{workdir / 'serving.db'}")
    with session_scope(engine, org_id="org-a") as session:
        session.add(Organization(id="org-a", name="A"))
    broker.start()
    (workdir / "mosquitto.pid").write_text(str(broker._proc.pid))  # type: ignore[union-attr]
    clients: list[paho.Client] = []
    try:
        a = _provision(config, "org-a", "ST-A", workdir / "a.yaml")
        b = _provision(config, "org-a", "ST-B", workdir / "b.yaml")
        assert a["org_id"] == "org-a" and a["station_id"] == "ST-A"
        assert a["mqtt"]["port"] == broker.port and a["mqtt"]["username"] == "org-a.ST-A"
        time.sleep(0.5)  # the broker reloads its files on SIGHUP

        hub, ok = _connect(broker.port, "hub", HUB_PASSWORD)
        station_a, ok_a = _connect(broker.port, a["mqtt"]["username"], a["mqtt"]["password"])
        station_b, ok_b = _connect(broker.port, b["mqtt"]["username"], b["mqtt"]["password"])
        clients += [hub, station_a, station_b]
        assert (ok, ok_a, ok_b) == (0, 0, 0)
        _, wrong = _connect(broker.port, "org-a.ST-A", b["mqtt"]["password"])
        assert wrong != 0

        at_hub = _listen(hub, "altaviz/v1/#")
        a_sees = _listen(station_a, "altaviz/v1/org-a/ST-B/#")  # B's topics: refused by the ACL
        b_sees = _listen(station_b, "altaviz/v1/org-a/ST-B/#")
        time.sleep(0.5)
        # A cannot read what the hub sends B (while A is connected and subscribed)...
        hub.publish("altaviz/v1/org-a/ST-B/ack", b"for B", qos=1).wait_for_publish(5)
        station_a.publish("altaviz/v1/org-a/ST-A/telemetry", b"own", qos=1).wait_for_publish(5)
        time.sleep(1.0)
        assert station_a.is_connected()
        assert a_sees == []
        assert b_sees == ["altaviz/v1/org-a/ST-B/ack"]
        assert "altaviz/v1/org-a/ST-A/telemetry" in at_hub
        # ... nor publish as B: the broker drops it (and may drop A's connection for it).
        station_a.publish("altaviz/v1/org-a/ST-B/telemetry", b"forged", qos=1)
        time.sleep(1.0)
        assert "altaviz/v1/org-a/ST-B/telemetry" not in at_hub

        assert main(["stations", "revoke", "org-a", "ST-B", "--config", str(config)]) == 0
        time.sleep(0.5)
        _, refused = _connect(broker.port, b["mqtt"]["username"], b["mqtt"]["password"])
        assert refused != 0  # refused at its next connect
        again, still = _connect(broker.port, a["mqtt"]["username"], a["mqtt"]["password"])
        clients.append(again)
        assert still == 0  # the other station is untouched
    finally:
        for client in clients:
            client.loop_stop()
            client.disconnect()
        broker.stop()
    with session_scope(engine, org_id="org-a") as session:
        assert session.get(StationCredential, ("org-a", "ST-B")) is None
        assert session.get(Station, ("org-a", "ST-B")) is not None  # its history stays
    assert "org-a.ST-B" not in (workdir / "acl").read_text()
    assert (workdir / "acl").read_text().startswith("user hub\n")


def test_unknown_org_existing_station_or_one_past_the_plan_is_refused_and_changes_nothing(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = _config(workdir, None)
    upgrade(f"sqlite:///{workdir / 'serving.db'}")
    engine = make_engine(f"sqlite:///{workdir / 'serving.db'}")
    with session_scope(engine, org_id="org-a") as session:
        session.add(Organization(id="org-a", name="A"))
    _provision(config, "org-a", "ST-A", workdir / "a.yaml")
    capsys.readouterr()
    files = {name: (workdir / name).read_bytes() for name in ("passwd", "acl")}

    def counts() -> tuple[int, int]:
        with session_scope(engine, org_id="org-a") as session:
            return (
                session.scalar(select(func.count()).select_from(Station)) or 0,
                session.scalar(select(func.count()).select_from(StationCredential)) or 0,
            )

    with session_scope(engine, org_id="org-a") as session:  # Pilot: 5 stations, now all used
        session.add_all(Station(org_id="org-a", id=f"ST-{n}", name="x") for n in range(2, 6))
    before = counts()
    for argv, expected in [
        (["stations", "provision", "org-zz", "ST-X"], "no organisation 'org-zz'"),
        (["stations", "provision", "org-a", "ST-6"], "The Pilot plan includes 5 stations"),
        (["stations", "provision", "org-a", "ST-A"], "org-a/ST-A is already provisioned"),
        (["stations", "revoke", "org-a", "ST-NEVER"], "has no credentials to revoke"),
        (["stations", "provision", "org-a", "bad id!"], "station id"),
    ]:
        assert main([*argv, "--config", str(config)]) == 2
        errors = [ln for ln in capsys.readouterr().err.splitlines() if "error" in ln.lower()]
        assert len(errors) == 1 and errors[0].startswith("altaviz-hub: error:")
        assert expected in errors[0]
    assert counts() == before
    assert {name: (workdir / name).read_bytes() for name in files} == files
    # A station the portal created within the plan still gets its credentials.
    assert _provision(config, "org-a", "ST-5", workdir / "five.yaml")["station_id"] == "ST-5"
