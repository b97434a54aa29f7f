"""The uplink as deployed: TLS to the broker, per-station username/password, topic ACL."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from edge_agent.agent import Agent
from edge_agent.settings import EdgeSettings
from shared.mqtt import MqttSettings
from tests.integration.test_edge_resilience import assert_exactly_once
from tests.support.services import Mosquitto, mosquitto_binary, require
from tests.support.sources import FiniteSource
from tests.support.stack import AgentThread, hub_settings, start_ingest, wait_until

pytestmark = pytest.mark.mosquitto


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.TraditionalOpenSSL,
        serialization.NoEncryption(),
    )


def _certificates(folder: Path) -> None:
    """A private CA and a server certificate for 127.0.0.1 signed by it."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "altaviz test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    server = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(ca_key, hashes.SHA256())
    )
    (folder / "ca.pem").write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    (folder / "server.pem").write_bytes(server.public_bytes(serialization.Encoding.PEM))
    (folder / "server.key").write_bytes(_pem(key))


@pytest.fixture
def secure_broker() -> Iterator[tuple[Mosquitto, Path]]:
    require(
        mosquitto_binary() is not None and shutil.which("mosquitto_passwd") is not None, "mosquitto"
    )
    # Readable by the unprivileged user mosquitto switches to.
    folder = Path(tempfile.mkdtemp(prefix="altaviz-tls-"))
    os.chmod(folder, 0o755)
    _certificates(folder)
    passwords = folder / "passwd"
    for user, password in (
        ("station-1", "s1-secret"),
        ("station-2", "s2-secret"),
        ("hub", "hub-secret"),
    ):
        subprocess.run(
            ["mosquitto_passwd", "-b", *([] if passwords.exists() else ["-c"]), str(passwords), user, password],
            check=True, capture_output=True,
        )  # fmt: skip
    (folder / "acl").write_text(
        "user hub\ntopic readwrite altaviz/#\ntopic readwrite $share/#\n\n"
        "pattern readwrite altaviz/v1/org-a/%u/#\n"
    )
    for path in folder.iterdir():
        os.chmod(path, 0o644)
    broker = Mosquitto(folder / "mosquitto")
    broker.config.write_text(
        f"listener {broker.port} 127.0.0.1\n"
        "allow_anonymous false\n"
        f"password_file {passwords}\n"
        f"acl_file {folder / 'acl'}\n"
        f"cafile {folder / 'ca.pem'}\ncertfile {folder / 'server.pem'}\nkeyfile {folder / 'server.key'}\n"
        "max_queued_messages 0\nmax_packet_size 67108864\n"
    )
    broker.start()
    try:
        yield broker, folder
    finally:
        broker.stop()
        shutil.rmtree(folder, ignore_errors=True)


def _mqtt(broker: Mosquitto, folder: Path, user: str, password: str) -> MqttSettings:
    return MqttSettings(
        port=broker.port,
        tls=True,
        ca_file=folder / "ca.pem",
        username=user,
        password=password,  # type: ignore[arg-type]
        reconnect_min_s=0.2,
        reconnect_max_s=1,
    )


def test_station_sends_over_tls_with_its_own_credentials(
    secure_broker: tuple[Mosquitto, Path], tmp_path: Path
) -> None:
    broker, folder = secure_broker
    hub = hub_settings(tmp_path, broker.port)
    hub = hub.model_copy(update={"mqtt": _mqtt(broker, folder, "hub", "hub-secret")})
    ingest = start_ingest(hub)
    source = FiniteSource(total=2_000, per_poll=100)
    settings = EdgeSettings.load(
        None,
        org_id="org-a",
        station_id="station-1",
        mqtt=_mqtt(broker, folder, "station-1", "s1-secret"),
        buffer={"path": tmp_path / "edge" / "buffer.duckdb"},
        http={"enabled": False},
        uplink={"batch_max_rows": 200, "batch_max_age_s": 0.2},
    )
    agent = Agent(settings, source=source)
    with AgentThread(agent):
        wait_until(
            lambda: (
                source.exhausted
                and agent.stats.pending_batches == 0
                and agent.stats.unbatched_readings == 0
            ),
            timeout=60,
            what="every batch acknowledged over TLS",
        )
    ingest.stop()
    assert_exactly_once(hub.landing_dir, 2_000)


def test_wrong_password_buffers_instead_of_crashing(
    secure_broker: tuple[Mosquitto, Path], tmp_path: Path
) -> None:
    broker, folder = secure_broker
    source = FiniteSource(total=500, per_poll=100)
    settings = EdgeSettings.load(
        None,
        org_id="org-a",
        station_id="station-1",
        mqtt=_mqtt(broker, folder, "station-1", "not-the-password"),
        buffer={"path": tmp_path / "edge" / "buffer.duckdb"},
        http={"enabled": False},
    )
    agent = Agent(settings, source=source)
    with AgentThread(agent):
        wait_until(lambda: agent.stats.last_seq == 500, timeout=20, what="readings buffered")
        assert not agent.uplink.connected
    assert agent.stats.readings_stored == 500
