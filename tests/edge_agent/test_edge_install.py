"""A gateway installs only `.[edge]`: no pyspark, no FastAPI, no scikit-learn, and the agent runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_edge_extra_installs_without_hub_dependencies(tmp_path: Path) -> None:
    venv = tmp_path / "gateway-venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = venv / "bin" / "pip"
    env = {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    install = subprocess.run(
        [str(pip), "install", "--quiet", f"{REPO}[edge]"],
        capture_output=True, text=True, env=env, timeout=900,
    )  # fmt: skip
    assert install.returncode == 0, install.stderr[-3000:]
    installed = subprocess.run(
        [str(pip), "list", "--format=freeze"], capture_output=True, text=True, check=True
    ).stdout.lower()
    names = {line.split("==")[0] for line in installed.splitlines()}
    # No Arrow either: the agent keeps rows in NumPy and DuckDB writes its Parquet batches.
    for forbidden in (
        "pyspark", "delta-spark", "fastapi", "scikit-learn", "uvicorn", "py4j", "pyarrow", "pandas",
    ):  # fmt: skip
        assert forbidden not in names, f"{forbidden} was installed with .[edge]"
    for needed in ("duckdb", "onnxruntime", "paho-mqtt", "pymodbus", "numpy", "asyncua"):
        assert needed in names, f"{needed} missing from .[edge]"
    python = venv / "bin" / "python"
    no_spark = subprocess.run(
        [str(python), "-c", "import pyspark"], capture_output=True, cwd=tmp_path
    )
    assert no_spark.returncode != 0
    # Outside the checkout, so the installed package (not the source tree) is what runs.
    helped = subprocess.run(
        [str(venv / "bin" / "altaviz-edge"), "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert helped.returncode == 0, helped.stderr
    assert "run" in helped.stdout and "status" in helped.stdout
    imports = subprocess.run(
        [str(python), "-c", "import edge_agent.agent, edge_agent.buffer, edge_agent.opcua.source, simulator.source, simulator.cli"],
        capture_output=True, text=True, cwd=tmp_path,
    )  # fmt: skip
    assert imports.returncode == 0, imports.stderr
