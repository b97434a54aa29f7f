"""`altaviz-models evaluate` end to end on a small simulator run (one station, 30 days)."""

from __future__ import annotations

from pathlib import Path

import pytest

from models.cli import main as models_cli
from simulator.cli import main as sim_cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim") / "random-30d"
    args = ["--log-level", "WARNING", "generate", "--scenario", "random", "--duration", "30d",
            "--station", "EF-KARNES", "--out", str(out)]  # fmt: skip
    assert sim_cli(args) == 0
    return out


def test_evaluate_prints_every_models_card(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    code = models_cli(["evaluate", "--run", str(run_dir)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "evaluation run: " in out and "3 compressors" in out
    assert "holdout: 3 detector models, retrained every 7 d" in out
    assert "Detection, scored 2026-04-15 .. 2026-05-01" in out
    assert "false alarms (edge): " in out and "per compressor-month (target <= 0.5)" in out
    assert "false and instrument alarms together (either): " in out
    assert "Drift forecaster: " in out
    assert "RUL estimator: not evaluated (no --train-run)" in out
    # The emissions card moved to the hub (hub.compliance): the evaluation points to it.
    assert f"Emissions estimator: altaviz-hub compliance check-run --run {run_dir}" in out


def test_a_training_run_overlapping_the_evaluation_is_refused(
    run_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = models_cli(["evaluate", "--run", str(run_dir), "--train-run", str(run_dir)])
    assert code == 4
    assert "overlaps the evaluation run" in capsys.readouterr().err
