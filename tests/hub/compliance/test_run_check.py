"""`altaviz-hub compliance check-run`: the estimator on a simulator run against its truth
(the card `altaviz-models evaluate --fleet` printed before the code moved to the hub)."""

from __future__ import annotations

from pathlib import Path

import pytest

from hub.cli import main
from tests.hub.compliance.conftest import FLEET


def test_check_run_prints_the_emissions_card(
    sim_run: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["compliance", "check-run", "--run", str(sim_run), "--fleet", str(FLEET)]) == 0
    out = capsys.readouterr().out
    assert (
        "Emissions estimator (3 compressors" in out and "GWP CH4 28 for reporting year 2026" in out
    )
    # The blowdowns the simulator vented are what the estimator counts, to the scf.
    (line,) = [x for x in out.splitlines() if "blowdown CH4 vs truth" in x]
    estimated, truth = (part.split()[0] for part in line.split("estimated ")[1].split(", truth "))
    assert estimated == truth
