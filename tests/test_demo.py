"""`altaviz demo` end to end, twice: the second run continues the story and adds only new rows."""

from __future__ import annotations

import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from deltalake import DeltaTable

from tests.support.services import require

REPO = Path(__file__).resolve().parents[1]


def _run_demo(data_dir: Path) -> str:
    result = subprocess.run(
        [sys.executable, "-m", "hub.demo", "demo", "--duration", "20", "--pipeline-interval", "1000",
         "--data-dir", str(data_dir)],
        cwd=REPO, capture_output=True, text=True, timeout=900,
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
    assert bronze.num_rows == total
    seqs: dict[str, list[int]] = {}
    for station, seq in zip(
        bronze.column("station_id").to_pylist(), bronze.column("seq").to_pylist(), strict=True
    ):
        seqs.setdefault(station, []).append(seq)
    # Four stations, one edge agent each; nothing lost or doubled between runs either.
    assert sorted(seqs) == ["BN-FTWORTH", "EF-KARNES", "HV-CARTHAGE", "PB-MIDLAND"]
    for station, numbers in seqs.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), station
    # The lakehouse ran through to the serving database the portal reads.
    silver = re.search(r"silver rows: (\d+)", second)
    assert silver and int(silver.group(1)) == total, second
    assert re.search(r"alert episodes: \d+ \(\d+ open\)", second), second
    with sqlite3.connect(data_dir / "hub" / "serving.db") as db:
        statuses = db.execute("select count(*) from compressor_status").fetchone()[0]
    assert statuses == 10
    # Simulated time continued from where the first run stopped.
    day = [float(d) for d in re.findall(r"simulated time reached day ([\d.]+)", first + second)]
    assert len(day) == 2 and day[1] > day[0], (first, second)
