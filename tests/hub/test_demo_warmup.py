"""The demo's warm-up runs a micro-batch on a throwaway lake and leaves the real one alone."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from hub.demo.warmup import warm_up
from tests.conftest import REPO_ROOT
from tests.hub.lakehouse.support import lake_settings


@pytest.mark.spark
def test_warm_up_runs_a_micro_batch_and_touches_nothing_of_the_demo(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    settings = lake_settings(
        tmp_path, pipeline={"seed_fleet": str(REPO_ROOT / "config" / "fleet.yaml")}
    )
    before = set(Path(tempfile.gettempdir()).glob("altaviz-warm-up-*"))
    assert warm_up(spark, settings) > 0
    assert not settings.data_dir.exists(), "the warm-up wrote into the demo's data directory"
    assert set(Path(tempfile.gettempdir()).glob("altaviz-warm-up-*")) == before  # cleaned up


def test_no_fleet_file_no_warm_up(tmp_path: Path) -> None:
    settings = lake_settings(tmp_path, pipeline={"seed_fleet": str(tmp_path / "absent.yaml")})
    assert warm_up(None, settings) == 0.0  # type: ignore[arg-type]
