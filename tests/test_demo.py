"""`altaviz demo` end to end, twice: the second run adds only new rows."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.support.services import require

REPO = Path(__file__).resolve().parents[1]


def _run_demo(data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hub.demo", "demo", "--duration", "20", "--pipeline-interval", "5",
         "--data-dir", str(data_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr[-3000:]
    return result.stdout


@pytest.mark.slow
@pytest.mark.spark
def test_demo_runs_twice_without_duplicates(tmp_path: Path) -> None:
    require(
        any((REPO / ".cache" / "jars").glob("delta-spark_*.jar")), "Delta Lake jars (make jars)"
    )
    data_dir = tmp_path / "demo"
    first = _run_demo(data_dir)
    first_rows = int(re.search(r"bronze rows: (\d+) \(\+(\d+) this run\)", first).group(1))  # type: ignore[union-attr]
    assert first_rows > 0, first
    second = _run_demo(data_dir)
    match = re.search(r"bronze rows: (\d+) \(\+(\d+) this run\)", second)
    assert match, second
    total, added = int(match.group(1)), int(match.group(2))
    assert added > 0 and total == first_rows + added
    bronze = DeltaTable(str(data_dir / "hub" / "lake" / "bronze" / "readings")).to_pyarrow_table(
        columns=["station_id", "seq"]
    )
    seqs = bronze.column("seq").to_pylist()
    assert bronze.num_rows == total == len(set(seqs))
    assert sorted(seqs) == list(range(1, total + 1))  # nothing lost between runs either
    # The summary says what reached silver, gold and the serving database.
    silver = re.search(r"silver rows: (\d+)", second)
    assert silver and int(silver.group(1)) == total, second
    assert re.search(r"gold rows: [1-9]\d* compressor-minute", second), second
    assert re.search(r"alert episodes: \d+ \(\d+ open\)", second), second
    assert re.search(r"serving .*: [1-9]\d* compressor status row", second), second
