"""Throwaway real services for tests and benchmarks: mosquitto, PostgreSQL.

With CI=true a missing service is a failure, not a skip.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, what: str) -> None:
    """Skip locally when a service or dataset is missing; fail under CI=true."""
    if condition:
        return
    if in_ci():
        pytest.fail(f"{what} is required under CI=true (.ci/run installs it)", pytrace=False)
    pytest.skip(f"{what} not available")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, *, timeout: float = 10.0, host: str = "127.0.0.1") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise TimeoutError(f"nothing listening on {host}:{port} after {timeout}s")


def mosquitto_binary() -> str | None:
    return shutil.which("mosquitto") or next(
        (p for p in ("/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto") if os.path.exists(p)), None
    )


class Mosquitto:
    """A real mosquitto on a free loopback port; can be stopped and started again."""

    def __init__(self, workdir: Path, *, port: int | None = None, extra_config: str = "") -> None:
        binary = mosquitto_binary()
        assert binary is not None
        self.binary = binary
        self.workdir = workdir
        self.port = port or free_port()
        workdir.mkdir(parents=True, exist_ok=True)
        self.config = workdir / "mosquitto.conf"
        # max_queued_messages defaults to 1000 and silently drops QoS 1 messages for
        # a subscriber that falls behind: set it deliberately (0 = no limit).
        self.config.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "max_queued_messages 0\n"
            "max_inflight_messages 0\n"
            "max_packet_size 67108864\n"
            "persistence true\n"
            f"persistence_location {workdir}/\n"
            f"{extra_config}"
        )
        self.log = workdir / "mosquitto.log"
        self._proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Mosquitto:
        with open(self.log, "ab") as log:
            self._proc = subprocess.Popen(
                [self.binary, "-c", str(self.config)], stdout=log, stderr=subprocess.STDOUT
            )
        wait_for_port(self.port)
        return self

    def stop(self) -> None:
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(signal.SIGTERM)
            try:
                self._proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None


def postgres_bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found:
        return Path(found).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), reverse=True)
    return Path(candidates[0]).parent if candidates else None


class Postgres:
    """A throwaway PostgreSQL cluster in a temporary directory, on a free port.

    initdb refuses to run as root, so as root the cluster is owned by `postgres`.
    """

    def __init__(self, workdir: Path) -> None:
        bin_dir = postgres_bin_dir()
        assert bin_dir is not None
        self.bin_dir = bin_dir
        self.workdir = workdir
        self.datadir = workdir / "data"
        self.sockdir = workdir / "sock"
        self.port = free_port()
        self.user = "altaviz"
        self.password = "altaviz-test"
        self._as_postgres = os.geteuid() == 0

    def _run(self, *args: str) -> None:
        command = list(args)
        if self._as_postgres:
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True)

    def start(self) -> Postgres:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.sockdir.mkdir(exist_ok=True)
        pwfile = self.workdir / "pw"
        pwfile.write_text(self.password)
        if self._as_postgres:
            shutil.chown(self.workdir, "postgres")
            shutil.chown(self.sockdir, "postgres")
            shutil.chown(pwfile, "postgres")
            os.chmod(self.workdir, 0o755)
        self._run(
            str(self.bin_dir / "initdb"),
            "-D", str(self.datadir),
            "-U", self.user,
            "--pwfile", str(pwfile),
            "-A", "scram-sha-256",
            "--no-sync",
        )  # fmt: skip
        options = f"-p {self.port} -k {self.sockdir} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._run(
            str(self.bin_dir / "pg_ctl"),
            "-D", str(self.datadir),
            "-o", options,
            "-l", str(self.workdir / "postgres.log"),
            "-w", "start",
        )  # fmt: skip
        return self

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(
                str(self.bin_dir / "pg_ctl"), "-D", str(self.datadir), "-m", "immediate", "stop"
            )

    def url(self, database: str = "postgres", *, driver: str = "postgresql+psycopg") -> str:
        return f"{driver}://{self.user}:{self.password}@127.0.0.1:{self.port}/{database}"
