"""A short simulator run shared by the compliance tests that need one (one station, 7 days)."""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.cli import main as sim_cli

REPO = Path(__file__).resolve().parents[3]
FLEET = REPO / "config" / "fleet.yaml"


@pytest.fixture(scope="session")
def sim_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("compliance-sim") / "random-7d"
    args = ["--log-level", "WARNING", "generate", "--scenario", "random", "--duration", "7d",
            "--station", "EF-KARNES", "--out", str(out)]  # fmt: skip
    assert sim_cli(args) == 0
    return out
