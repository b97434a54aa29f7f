"""Exactly once through the engine: same files twice, a killed process, reprocessing from scratch.

Each scenario must leave silver and gold with the same content (compared by a
content hash of every table) as one clean pass over the same landing files.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
import yaml

from hub.lakehouse.audit import table_hashes
from hub.lakehouse.io import Lake
from hub.lakehouse.pipeline import LAKE_QUERY, run_once
from hub.lakehouse.tables import (
    ALL_TABLES,
    BRONZE_READINGS,
    SILVER_AND_GOLD,
    SILVER_READINGS,
    LakePaths,
)
from hub.settings import HubSettings
from tests.conftest import JARS_DIR, REPO_ROOT
from tests.hub.lakehouse.support import lake_settings, land
from tests.support.factories import readings

pytestmark = [pytest.mark.spark, pytest.mark.slow]

START = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)


def _telemetry() -> list[pa.Table]:
    """Two compressors, 30 min at 1 Hz; C02 runs hot for 20 min (an alert episode).

    Landed as seven batches: out of order, and one range delivered twice under
    another batch id (as an edge with a rebuilt buffer would).
    """
    n = 3600
    hot = [330.0 if (i % 2 and 600 <= i // 2 < 1800) else 215.0 + (i % 7) * 0.3 for i in range(n)]
    table = readings(n, compressors=2, start=START, discharge_temp_f=hot)
    batches = [table.slice(offset, 600) for offset in range(0, n, 600)]
    redelivered = table.slice(300, 100)
    return [batches[0], batches[2], batches[1], redelivered, *batches[3:]]


def _land_all(settings: HubSettings) -> None:
    for batch in _telemetry():
        land(settings, batch)
        time.sleep(0.01)  # distinct receipt times, as real arrivals have


def _hashes(spark, settings: HubSettings) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return table_hashes(Lake(spark, settings.lake_root), SILVER_AND_GOLD)


@pytest.fixture(scope="module")
def reference(spark, tmp_path_factory) -> tuple[HubSettings, dict[str, str]]:  # type: ignore[no-untyped-def]
    """One clean pass over the landed files."""
    settings = lake_settings(tmp_path_factory.mktemp("reference"))
    _land_all(settings)
    run_once(spark, settings)
    hashes = _hashes(spark, settings)
    assert hashes["silver/readings"].startswith("3600:")  # the re-delivered range once
    assert not hashes["gold/alert_episodes"].startswith("0:")
    return settings, hashes


def test_processing_the_same_files_twice_changes_nothing(spark, reference) -> None:  # type: ignore[no-untyped-def]
    settings, expected = reference
    lake = Lake(spark, settings.lake_root)
    versions = {s.name: lake.history(s, 1).first().version for s in SILVER_AND_GOLD}
    second = run_once(spark, settings)
    assert second.bronze_rows_added == 0 and second.readings_processed == 0
    assert _hashes(spark, settings) == expected
    assert versions == {s.name: lake.history(s, 1).first().version for s in SILVER_AND_GOLD}
    assert lake.count(BRONZE_READINGS) == 3700  # bronze keeps every delivery as received


def test_reprocessing_from_scratch_gives_the_same_content(spark, reference) -> None:  # type: ignore[no-untyped-def]
    settings, expected = reference
    # Drop every table and the checkpoint; the landing zone stays, as after a reset in
    # production (the landing zone is what the lake is rebuilt from).
    paths = LakePaths(settings.lake_root)
    for spec in ALL_TABLES:
        shutil.rmtree(paths.table(spec))
    shutil.rmtree(paths.checkpoint(LAKE_QUERY))
    run = run_once(spark, settings)
    assert run.readings_processed == 3700
    assert _hashes(spark, settings) == expected


def _config(root: Path) -> Path:
    config = {
        "data_dir": str(root / "hub"),
        "lake_root": str(root / "hub" / "lake"),
        "database_url": f"sqlite:///{root / 'serving.db'}",
        "log_level": "WARNING",
        "spark": {"jars_dir": str(JARS_DIR), "shuffle_partitions": 2},
        # Several micro-batches, so one can be interrupted after others committed.
        "pipeline": {
            "max_files_per_trigger": 2,
            "seed_fleet": None,
            "maintenance_interval_h": 0,
        },
    }
    path = root / "hub.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


def _start(config: Path, log: Path) -> subprocess.Popen[bytes]:
    with open(log, "ab") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "hub", "--config", str(config), "pipeline", "--once"],
            cwd=REPO_ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip


def _silver_committed(lake_root: str, batch_id: int) -> bool:
    for path in Path(lake_root, "silver", "readings", "_delta_log").glob("*.json"):
        for line in path.read_text().splitlines():
            txn = json.loads(line).get("txn")
            if txn and txn["appId"].endswith("silver/readings") and txn["version"] == batch_id:
                return True
    return False


def test_killing_the_process_mid_batch_then_restarting(spark, reference, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings, expected = reference
    root = tmp_path / "killed"
    copy = lake_settings(root)
    shutil.copytree(settings.landing_dir, copy.landing_dir, copy_function=shutil.copy2)
    config = _config(root)
    checkpoint = Path(LakePaths(copy.lake_root).checkpoint(LAKE_QUERY))
    process = _start(config, tmp_path / "first.log")
    # Kill it once micro-batch 1 has written silver but has not finished gold.
    deadline = time.monotonic() + 420
    while not _silver_committed(copy.lake_root, 1):
        assert process.poll() is None, (tmp_path / "first.log").read_text()[-3000:]
        assert time.monotonic() < deadline, "micro-batch 1 never wrote silver"
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    assert (checkpoint / "offsets" / "1").exists() and not (checkpoint / "commits" / "1").exists()

    restarted = _start(config, tmp_path / "second.log")
    assert restarted.wait(timeout=600) == 0, (tmp_path / "second.log").read_text()[-3000:]
    assert _hashes(spark, copy) == expected
    silver = Lake(spark, copy.lake_root).read(SILVER_READINGS)
    assert silver.count() == silver.select("compressor_id", "timestamp").distinct().count() == 3600
