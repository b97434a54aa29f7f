"""`altaviz-hub stations config`: a clear error for bad input, a diff before a push."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from hub.cli import main


def _config(tmp_path: Path) -> Path:
    config = tmp_path / "hub.yaml"
    config.write_text(
        yaml.safe_dump(
            {"database_url": f"sqlite:///{tmp_path / 'serving.db'}", "data_dir": str(tmp_path)}
        )
    )
    return config


def test_diff_shows_what_a_push_would_change(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sections = tmp_path / "station.yaml"
    sections.write_text(yaml.safe_dump({"uplink": {"batch_max_rows": 500}}))
    args = ["--config", str(_config(tmp_path)), "stations", "config"]
    assert main([*args, "diff", "STATION-1", "--org", "org-a", "--file", str(sections)]) == 0
    out = capsys.readouterr().out
    assert "+uplink:" in out and "+  batch_max_rows: 500" in out
    assert main([*args, "show", "STATION-1", "--org", "org-a"]) == 0
    assert "desired   none" in capsys.readouterr().out


def test_unknown_section_is_one_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sections = tmp_path / "station.yaml"
    sections.write_text("thresholds: {}\nbatch_size: 10\n")
    args = ["--config", str(_config(tmp_path)), "stations", "config", "push", "STATION-1"]
    assert main([*args, "--org", "org-a", "--file", str(sections)]) == 2
    assert "unknown section(s) ['batch_size']" in capsys.readouterr().err
