"""deploy/edge: install.sh on a clean directory tree (the [edge] venv, the hardened unit,
log rotation, a dedicated user), then upgrade.sh to a version that fails its health check,
which is rolled back to the running one."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
import yaml

from tests.support.services import free_port, require

REPO = Path(__file__).resolve().parents[2]
EDGE = REPO / "deploy" / "edge"

pytestmark = pytest.mark.slow

#: What the installed agent runs with: nothing of this checkout on its import path.
CLEAN_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}

HARDENING = {
    "NoNewPrivileges": "true",
    "ProtectSystem": "strict",
    "ProtectHome": "true",
    "PrivateTmp": "true",
    "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "true",
    "SystemCallFilter": "@system-service",
    "User": "altaviz",
}


def _unit(path: Path) -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entries.setdefault(key.strip(), []).append(value.strip())
    return entries


def _python311() -> str | None:
    for name in ("python3.11", "python3"):
        found = shutil.which(name)
        if (
            found
            and subprocess.run(
                [found, "-c", "import sys, ensurepip; assert sys.version_info >= (3, 11)"],
                capture_output=True,
            ).returncode
            == 0
        ):
            return found
    return None


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    require(os.geteuid() == 0, "root (install.sh creates a user and chowns)")
    require(shutil.which("useradd") is not None, "useradd")
    python = _python311()
    require(python is not None, "Python 3.11+ with venv")
    root = tmp_path_factory.mktemp("gateway")
    result = subprocess.run(
        ["sh", str(EDGE / "install.sh"), "--root", str(root), str(REPO)],
        env={**CLEAN_ENV, "PYTHON": str(python)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"installed under {root}" in result.stdout
    return root


def test_install_on_a_clean_tree(installed: Path) -> None:
    root = installed
    venv = root / "opt" / "altaviz" / "venv"
    assert venv.is_symlink() and venv.resolve().parent == root / "opt" / "altaviz" / "venvs"
    version = subprocess.run(
        [str(venv / "bin" / "altaviz-edge"), "--version"],
        capture_output=True,
        text=True,
        env=CLEAN_ENV,
    )
    assert version.returncode == 0 and version.stdout.startswith("altaviz-edge ")
    # only the edge extra: the gateway has DuckDB and ONNX Runtime, never Spark or Arrow
    probe = "import duckdb, onnxruntime, importlib.util as u; print(u.find_spec('pyspark'), u.find_spec('pyarrow'))"
    imports = subprocess.run(
        [str(venv / "bin" / "python"), "-c", probe], capture_output=True, text=True, env=CLEAN_ENV
    )
    assert imports.stdout.strip() == "None None", imports.stderr

    user = next(
        line.split(":")
        for line in (root / "etc" / "passwd").read_text().splitlines()
        if line.startswith("altaviz:")
    )
    assert user[6] == "/usr/sbin/nologin" and int(user[2]) != 0
    for folder in ("var/lib/altaviz", "var/log/altaviz"):
        assert (root / folder).stat().st_uid == int(user[2])
    env_file = root / "etc" / "altaviz" / "edge.env"
    assert env_file.stat().st_mode & 0o777 == 0o640 and env_file.stat().st_uid == 0
    assert (root / "etc" / "altaviz" / "edge.yaml").exists()

    unit = _unit(root / "etc" / "systemd" / "system" / "altaviz-edge.service")
    for key, value in HARDENING.items():
        assert unit.get(key) == [value], key
    assert unit["ExecStart"][0].startswith("/opt/altaviz/venv/bin/altaviz-edge run")
    assert unit["RestartPreventExitStatus"] == ["2"]
    rotate = (root / "etc" / "logrotate.d" / "altaviz-edge").read_text()
    assert "/var/log/altaviz/*.log" in rotate and "rotate 14" in rotate and "compress" in rotate
    assert unit["StandardError"] == ["append:/var/log/altaviz/edge.log"]


def _broken_copy(tmp_path: Path) -> Path:
    """This checkout with an agent that exits at once: a release that fails its health check."""
    files = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    target = tmp_path / "broken-release"
    for name in files:
        if name.split("/")[0] in {
            "shared",
            "edge_agent",
            "hub",
            "models",
            "simulator",
            "config",
        } or name in {
            "pyproject.toml",
            "README.md",
        }:
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / name, target / name)
    cli = target / "edge_agent" / "cli.py"
    cli.write_text(
        cli.read_text().replace(
            "def _run(args: argparse.Namespace) -> int:\n",
            "def _run(args: argparse.Namespace) -> int:\n    raise SystemExit(1)\n",
        )
    )
    return target


def test_an_upgrade_that_fails_its_health_check_is_rolled_back(
    installed: Path, tmp_path: Path
) -> None:
    root = installed
    port = free_port()
    config = tmp_path / "edge.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "org_id": "org-a",
                "station_id": "STATION-1",
                # A panel nobody answers and no broker: the agent runs degraded (200).
                "source": {
                    "kind": "modbus",
                    "options": {
                        "maps_dir": str(REPO / "config" / "register_maps"),
                        "panels": [
                            {
                                "compressor_id": "C01",
                                "register_map": "standard-scaled",
                                "transport": "tcp",
                                "host": "127.0.0.1",
                                "port": free_port(),
                                "device_id": 1,
                            }
                        ],
                    },
                },
                "scoring": {"thresholds_file": str(REPO / "config" / "thresholds.yaml")},
                "mqtt": {"port": free_port()},
                "buffer": {"path": str(tmp_path / "buffer.duckdb")},
                "http": {"port": port},
            }
        )
    )
    pid_file = tmp_path / "agent.pid"
    # What `systemctl restart altaviz-edge` does, for an agent this test runs itself.
    restart = tmp_path / "restart.sh"
    restart.write_text(
        f"if [ -f {pid_file} ]; then pid=$(cat {pid_file}); kill $pid 2>/dev/null;\n"
        "  while kill -0 $pid 2>/dev/null; do sleep 0.2; done; fi\n"
        f"nohup {root}/opt/altaviz/venv/bin/altaviz-edge run --config {config} "
        f">> {tmp_path}/agent.log 2>&1 &\necho $! > {pid_file}\n"
    )
    env = {
        **CLEAN_ENV,
        "PYTHON": _python311() or sys.executable,
        "RESTART_CMD": f"sh {restart}",
        "HEALTH_URL": f"http://127.0.0.1:{port}/health",
        "HEALTH_TIMEOUT_S": "25",
    }
    subprocess.run(["sh", str(restart)], check=True, env=env)
    venv = root / "opt" / "altaviz" / "venv"
    running = os.readlink(venv)
    try:
        result = subprocess.run(
            [
                "sh",
                str(root / "opt" / "altaviz" / "upgrade.sh"),
                "--root",
                str(root),
                str(_broken_copy(tmp_path)),
            ],
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "rolling back" in result.stderr and f"rolled back to {running}" in result.stderr
        assert os.readlink(venv) == running
        assert httpx.get(f"http://127.0.0.1:{port}/health", timeout=5).status_code == 200
        failed = [p for p in (root / "opt" / "altaviz" / "venvs").iterdir() if str(p) != running]
        assert len(failed) == 1  # kept for inspection, and it was the broken release
        (cli,) = failed[0].glob("lib/python3*/site-packages/edge_agent/cli.py")
        assert "raise SystemExit(1)" in cli.read_text()
    finally:
        if pid_file.exists():
            subprocess.run(["sh", "-c", f"kill $(cat {pid_file}) 2>/dev/null"], check=False)
