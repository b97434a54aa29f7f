"""Gateway reality: a full disk under a running agent (a tiny tmpfs), a read-only one at start and
one the kernel remounts read-only under a running agent (ext4 on a loop device), the systemd
watchdog over a real notify socket, and clock skew against the hub and a panel."""

from __future__ import annotations

import errno
import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from edge_agent import gateway
from edge_agent.agent import Agent
from edge_agent.errors import BufferError_
from edge_agent.gateway import ClockSkew, StorageGuard, storage_state_of
from edge_agent.http import health_of
from edge_agent.settings import EdgeSettings
from hub.settings import HubSettings
from shared.messages import PanelStatus
from tests.edge_agent.io_device import IoDevice
from tests.support.services import Mosquitto, free_port, require
from tests.support.sources import FiniteSource
from tests.support.stack import (
    AgentThread,
    hub_settings,
    landed_seq_counts,
    start_ingest,
    wait_until,
)

HORN, BEACON = 3, 4


def _settings(
    root: Path,
    buffer_dir: Path,
    *,
    mqtt_port: int | None = None,
    annunciation: dict[str, Any] | None = None,
    **buffer: object,
) -> EdgeSettings:
    root.mkdir(parents=True, exist_ok=True)
    (root / "edge.yaml").write_text("{}")
    return EdgeSettings.load(
        root / "edge.yaml",
        mqtt={"port": mqtt_port or free_port(), "reconnect_min_s": 0.2, "reconnect_max_s": 1},
        buffer={"path": buffer_dir / "buffer.duckdb", "memory_limit_mb": 64, **buffer},
        uplink={"batch_max_rows": 200, "batch_max_age_s": 0.2, "ack_timeout_s": 3.0},
        scoring={"thresholds_file": None},
        http={"enabled": False},
        remote_config={"dir": root / "config"},
        annunciation=annunciation or {},
    )


@pytest.fixture
def tiny_fs(tmp_path: Path) -> Iterator[Path]:
    """A 16 MB tmpfs: a gateway's disk, small enough to fill in a test."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
    )
    require(done.returncode == 0, f"mounting a tmpfs (root): {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


class Ext4Disk:
    """A gateway's data partition: ext4 on a loop device, mounted `errors=remount-ro`."""

    def __init__(self, image: Path, mount_point: Path) -> None:
        self.image, self.path = image, mount_point

    def mount(self) -> None:
        _run("mount", "-o", "loop,errors=remount-ro", str(self.image), str(self.path))

    @property
    def error_trigger(self) -> Path:
        device = _run("findmnt", "-n", "-o", "SOURCE", str(self.path)).strip()
        return Path("/sys/fs/ext4") / Path(device).name / "trigger_fs_error"

    def fail(self) -> None:
        """An ext4 error: the kernel remounts the file system read-only under its writers."""
        self.error_trigger.write_text("test\n")

    def unmount(self) -> None:
        """The technician's first step; refused (busy) while a file on it is open."""
        _run("umount", str(self.path))

    def check_and_mount(self) -> None:
        done = subprocess.run(["e2fsck", "-fy", str(self.image)], capture_output=True, text=True)
        assert done.returncode in (0, 1), done.stdout + done.stderr  # 1: errors corrected
        self.mount()

    @property
    def read_only(self) -> bool:
        try:
            (self.path / "probe").touch()
        except OSError as exc:
            return exc.errno == errno.EROFS
        (self.path / "probe").unlink()
        return False


def _run(*command: str) -> str:
    done = subprocess.run(command, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(command)}: {done.stderr.strip()}"
    return done.stdout


@pytest.fixture
def ext4_disk(tmp_path: Path) -> Iterator[Ext4Disk]:
    """A 32 MB ext4 file system whose errors remount it read-only (a tmpfs cannot be remounted
    read-only while a file is open for writing: the kernel refuses, the mount point is busy)."""
    require(
        all(shutil.which(tool) for tool in ("mkfs.ext4", "e2fsck", "findmnt")),
        "mkfs.ext4, e2fsck and findmnt (e2fsprogs, util-linux)",
    )
    image, mount_point = tmp_path / "disk.img", tmp_path / "data"
    mount_point.mkdir()
    with open(image, "wb") as blank:
        blank.truncate(32 * 1024 * 1024)
    subprocess.run(["mkfs.ext4", "-q", "-F", str(image)], check=True, capture_output=True)
    disk = Ext4Disk(image, mount_point)
    done = subprocess.run(
        ["mount", "-o", "loop,errors=remount-ro", str(image), str(mount_point)],
        capture_output=True,
        text=True,
    )
    require(done.returncode == 0, f"mounting ext4 on a loop device (root): {done.stderr.strip()}")
    try:
        require(disk.error_trigger.exists(), "ext4's trigger_fs_error in sysfs")
        yield disk
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False)


@pytest.fixture
def hub(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[HubSettings]:
    """The hub's ingest on a real mosquitto: batches are landed and acknowledged."""
    settings = hub_settings(tmp_path, mosquitto.port)
    ingest = start_ingest(settings)
    try:
        yield settings
    finally:
        ingest.stop()


def _horn_and_beacon(device: IoDevice) -> dict[str, Any]:
    return {
        "enabled": True, "host": "127.0.0.1", "port": device.port, "poll_interval_s": 0.1,
        "timeout_s": 0.5,
        "outputs": [{"name": "horn", "address": HORN}, {"name": "beacon", "address": BEACON}],
    }  # fmt: skip


def _fill(directory: Path) -> Path:
    """Take every free byte of the file system (it may be full already)."""
    filler = directory / "filler.bin"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while True:
            os.write(fd, b"\0" * 65536)
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    finally:
        os.close(fd)
    return filler


def _seqs(agent: Agent) -> list[int]:
    return [int(r[0]) for r in agent.buffer.connection.execute(
        "SELECT seq FROM readings ORDER BY seq").fetchall()]  # fmt: skip


def test_disk_full_holds_then_refuses_new_readings_and_loses_nothing_buffered(
    tmp_path: Path, tiny_fs: Path
) -> None:
    source = FiniteSource(total=10_000_000, per_poll=20, poll_interval_s=0.02)
    agent = Agent(_settings(tmp_path, tiny_fs, hold_readings=400), source=source)
    with AgentThread(agent) as running:
        wait_until(lambda: agent.stats.readings_stored > 500, timeout=20, what="readings stored")
        filler = _fill(tiny_fs)
        wait_until(lambda: agent.storage.state == "disk_full", timeout=20, what="disk_full")
        stored_when_full = agent.stats.last_seq
        wait_until(lambda: agent.storage.refused_readings > 0, timeout=20, what="refusals")
        wait_until(
            lambda: agent.snapshot["storage"]["refused_readings"] > 0, timeout=5, what="status"
        )
        doc = agent.snapshot
        assert doc["storage"]["state"] == "disk_full" and doc["storage_state"] == "disk_full"
        assert any("buffer storage disk_full" in p for p in health_of(doc)["problems"])
        assert doc["storage"]["held_readings"] <= 400

        filler.unlink()  # space again: the held readings go in first, then the new ones
        wait_until(lambda: agent.storage.state == "ok", timeout=20, what="recovery")
        wait_until(lambda: agent.stats.last_seq > stored_when_full + 400, timeout=20, what="more")
        running.stop()
        produced, refused = source.produced, agent.storage.refused_readings
    reopened = Agent(_settings(tmp_path, tiny_fs), source=FiniteSource(total=0))
    try:
        seqs = _seqs(reopened)
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs))), "a gap in the buffer"
        assert len(seqs) + refused == produced, "a reading neither stored nor counted refused"
    finally:
        reopened.close()


def test_read_only_buffer_at_start_is_one_clear_error(tmp_path: Path, tiny_fs: Path) -> None:
    Agent(_settings(tmp_path, tiny_fs), source=FiniteSource(total=10)).close()
    done = subprocess.run(["mount", "-o", "remount,ro", str(tiny_fs)], capture_output=True)
    assert done.returncode == 0, done.stderr
    with pytest.raises(BufferError_, match="cannot open buffer") as caught:
        Agent(_settings(tmp_path, tiny_fs), source=FiniteSource(total=10))
    assert caught.value.exit_code == 3
    assert storage_state_of(OSError(errno.EROFS, "Read-only file system")) == "read_only"


@pytest.mark.mosquitto
def test_read_only_remount_under_a_running_agent_holds_refuses_and_recovers(
    tmp_path: Path, ext4_disk: Ext4Disk, hub: HubSettings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "_RETRY_S", 0.5)  # the agent tries the buffer every 0.5 s
    source = FiniteSource(total=10_000_000, per_poll=20, poll_interval_s=0.02)
    with IoDevice() as device:
        settings = _settings(
            tmp_path, ext4_disk.path, mqtt_port=hub.mqtt.port,
            annunciation=_horn_and_beacon(device), hold_readings=400,
        )  # fmt: skip
        agent = Agent(settings, source=source)
        with AgentThread(agent) as running:
            wait_until(lambda: agent.acked_batches >= 3, timeout=30, what="batches acked")
            ext4_disk.fail()
            assert ext4_disk.read_only
            # The first failed write may be an fsync (write_error); reopening it says read-only.
            wait_until(
                lambda: (
                    agent.snapshot["storage"]["state"] == "read_only"
                    and agent.snapshot["storage"]["refused_readings"] > 0
                ),
                timeout=20,
                what="read_only and refusals in the status",
            )
            doc = agent.snapshot
            assert doc["storage_state"] == "read_only"
            assert any("buffer storage read_only" in p for p in health_of(doc)["problems"])
            assert doc["storage"]["held_readings"] <= 400
            wait_until(lambda: device.coil(HORN) and device.coil(BEACON), timeout=10, what="horn")

            # The agent let go of the file: the partition can be unmounted, checked, mounted.
            ext4_disk.unmount()
            wait_until(lambda: "missing" in str(agent.storage.error), timeout=10, what="missing")
            assert not (ext4_disk.path / "buffer.duckdb").exists(), "a new buffer was created"
            ext4_disk.check_and_mount()
            wait_until(lambda: agent.storage.state == "ok", timeout=20, what="recovery")
            wait_until(lambda: not device.coil(HORN), timeout=10, what="horn off")
            acked, recovered_at = agent.acked_batches, source.produced
            wait_until(
                lambda: agent.stats.last_seq + agent.storage.refused_readings > recovered_at + 400,
                timeout=20,
                what="readings stored after the recovery",
            )
            wait_until(lambda: agent.acked_batches > acked + 3, timeout=30, what="forwarding")
            running.stop()
            produced, refused = source.produced, agent.storage.refused_readings
            assert agent.storage.lost_readings == 0
    reopened = Agent(_settings(tmp_path, ext4_disk.path), source=FiniteSource(total=0))
    try:
        seqs = _seqs(reopened)
        assert seqs == list(range(1, len(seqs) + 1)), "a gap in the buffer, or buffered rows lost"
        assert len(seqs) + refused == produced, "a reading neither stored nor counted refused"
        times = [r[0] for r in reopened.buffer.connection.execute(
            'SELECT "timestamp" FROM readings ORDER BY seq').fetchall()]  # fmt: skip
        assert times == sorted(times), "held readings were not written first, in order"
    finally:
        reopened.close()
    landed = landed_seq_counts(hub.landing_dir)
    assert max(landed) + refused > recovered_at, "nothing stored after the recovery reached the hub"
    assert set(landed) <= set(seqs) and max(landed.values()) == 1


def test_a_reopened_buffer_is_reconciled_with_what_the_agent_wrote() -> None:
    """A file system failing under a commit may lose the last one it acknowledged (written
    again from memory) or keep one reported failed (its readings leave the held ones)."""
    readings = FiniteSource(total=100, per_poll=100).poll()

    def keys_of(first: int, last: int) -> list[tuple[str, datetime]]:
        return [(r.compressor_id, r.timestamp) for r in readings[first - 1 : last]]

    guard = StorageGuard(50, last_seq=0)
    guard.committed(1, readings[:20])
    guard.committed(21, readings[20:40])
    assert guard.reconcile(30, keys_of) == readings[30:40]
    guard.committed(31, readings[30:40])
    guard.failed(readings[40:70], OSError(errno.EROFS, "Read-only file system"))
    assert guard.reconcile(60, keys_of) == [] and guard.held == readings[60:70]
    assert guard.reconcile(50, keys_of) == readings[50:60] and guard.lost_readings == 0
    forgotten = StorageGuard(50, last_seq=100)  # lost commits older than memory goes back
    assert forgotten.reconcile(90, keys_of) == [] and forgotten.lost_readings == 10


def test_watchdog_and_readiness_over_a_real_notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    address = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(address)
    sock.settimeout(0.1)
    monkeypatch.setenv("NOTIFY_SOCKET", address)
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    messages: list[str] = []
    done = threading.Event()

    def service_manager() -> None:  # reads the socket as systemd does
        while not done.is_set():
            try:
                messages.append(sock.recv(4096).decode())
            except TimeoutError:
                continue

    reader = threading.Thread(target=service_manager, daemon=True)
    reader.start()
    agent = Agent(_settings(tmp_path, tmp_path), source=FiniteSource(total=100))
    agent.run(max_seconds=1.5)
    time.sleep(0.3)
    done.set()
    reader.join(5)
    sock.close()
    assert messages[0].startswith("READY=1") and "STATUS=link down" in messages[0]
    pings = [m for m in messages if m.startswith("WATCHDOG=1")]
    assert 4 <= len(pings) <= 20, messages  # every ~0.1 s for 1.5 s
    assert messages[-1] == "STOPPING=1"


def test_clock_skew_against_hub_and_panel_is_flagged() -> None:
    clock = ClockSkew(max_skew_s=5.0)
    for _ in range(5):
        clock.on_hub_time((datetime.now(UTC) - timedelta(seconds=42)).isoformat())
    panels = {"C01": PanelStatus(state="ok", clock_skew_s=-0.4), "C02": PanelStatus(state="ok")}
    doc = clock.document(panels)
    assert doc["skewed"] and 41 < doc["hub_skew_s"] < 43
    assert doc["panel_skew_s"] == {"C01": -0.4}
    assert "from the hub's" in doc["problem"] and "C01" not in doc["problem"]
    problems = health_of({"clock": doc, "link": "up", "loop_at_epoch": 1e18})["problems"]
    assert any(p.startswith("clock skew: agent clock +4") for p in problems)


def test_panel_clock_register_gives_the_panel_skew(tmp_path: Path) -> None:
    import time as _time

    import yaml

    from edge_agent.modbus.options import parse_options
    from edge_agent.modbus.source import ModbusSource, load_maps
    from shared.register_map import find_register_map, parse_register_map
    from tests.edge_agent.panels import PanelServer
    from tests.edge_agent.test_modbus import HEALTHY

    data = find_register_map("standard-scaled").model_dump(mode="json", exclude_none=True)
    assert any(p["name"] == "panel_clock_s" for p in data["points"])  # the map's own RTC register
    (tmp_path / "clocked.yaml").write_text(yaml.safe_dump({**data, "name": "clocked"}))
    register_map = parse_register_map(data | {"name": "clocked"}, source="test")
    behind = _time.time() - 30.0  # the panel's clock is 30 s behind the gateway's
    with PanelServer(register_map, {**HEALTHY, "panel_clock_s": behind}) as panel:
        options = parse_options({
            "maps_dir": str(tmp_path), "poll_interval_s": 0.05,
            "panels": [{"compressor_id": "C01", "register_map": "clocked", "host": "127.0.0.1",
                        "port": panel.port, "poll_interval_s": 0.1}],
        })  # fmt: skip
        source = ModbusSource(options, load_maps(options.panels, tmp_path))
        try:
            wait_until(
                lambda: source.panel_status()["C01"].clock_skew_s is not None,
                timeout=10,
                what="the panel's clock read",
            )
            skew = source.panel_status()["C01"].clock_skew_s
            assert skew is not None and 29 < skew < 33
            assert "panel_clock_s" not in source.poll()[0].values
        finally:
            source.close()
    doc = ClockSkew(max_skew_s=5).document(source.panel_status())
    assert doc["skewed"] and "panel C01" in doc["problem"]
