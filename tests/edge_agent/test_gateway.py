"""Gateway reality: a full disk under a running agent (a tiny tmpfs), a read-only one at start,
the systemd watchdog over a real notify socket, and clock skew against the hub and a panel."""

from __future__ import annotations

import errno
import os
import socket
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from edge_agent.agent import Agent
from edge_agent.errors import BufferError_
from edge_agent.gateway import ClockSkew, storage_state_of
from edge_agent.http import health_of
from edge_agent.settings import EdgeSettings
from shared.messages import PanelStatus
from tests.support.services import free_port, require
from tests.support.sources import FiniteSource
from tests.support.stack import AgentThread, wait_until


def _settings(root: Path, buffer_dir: Path, **overrides: object) -> EdgeSettings:
    root.mkdir(parents=True, exist_ok=True)
    (root / "edge.yaml").write_text("{}")
    return EdgeSettings.load(
        root / "edge.yaml",
        mqtt={"port": free_port()},
        buffer={"path": buffer_dir / "buffer.duckdb", "memory_limit_mb": 64, **overrides},
        scoring={"thresholds_file": None},
        http={"enabled": False},
        remote_config={"dir": root / "config"},
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
