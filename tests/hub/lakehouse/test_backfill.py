"""`altaviz-hub lake backfill`: a reading history landed as validated telemetry batches, once."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

from hub.cli import main
from shared.batch import decode_batch
from tests.support.factories import readings


def _config(root: Path) -> Path:
    path = root / "hub.yaml"
    path.write_text(yaml.safe_dump({"data_dir": str(root / "hub"), "log_level": "WARNING"}))
    return path


def test_backfill_lands_each_station_in_seq_batches_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    history = pa.concat_tables(
        [readings(50_000, station_id="ST-A", compressors=2), readings(30, station_id="ST-B")]
    )
    pq.write_table(history, tmp_path / "readings.parquet")
    config = _config(tmp_path)

    assert main(["--config", str(config), "lake", "backfill", str(tmp_path), "--org", "org-x"]) == 0
    assert "landed 50030 reading(s) in 4 batch(es)" in capsys.readouterr().out
    files = sorted((tmp_path / "hub" / "landing").rglob("*.parquet"))
    assert [f.parent.parent.name for f in files] == ["station=ST-A"] * 3 + ["station=ST-B"]
    batches = [decode_batch(f.read_bytes()) for f in files]
    assert all(b.meta.org_id == "org-x" for b in batches)
    assert [(b.meta.first_seq, b.meta.last_seq) for b in batches[:3]] == [
        (1, 20_000), (20_001, 40_000), (40_001, 50_000),
    ]  # fmt: skip
    assert sum(b.table.num_rows for b in batches) == history.num_rows

    before = {f: f.stat().st_mtime_ns for f in files}
    assert main(["--config", str(config), "lake", "backfill", str(tmp_path), "--org", "org-x"]) == 0
    after = {f: f.stat().st_mtime_ns for f in (tmp_path / "hub" / "landing").rglob("*.parquet")}
    assert after == before  # landing is idempotent by batch id: nothing new, nothing rewritten


def test_backfill_needs_an_org_for_every_station(tmp_path: Path) -> None:
    # EF-KARNES is in the default fleet file; the other station is not: nothing is landed.
    history = pa.concat_tables(
        [readings(10, station_id="EF-KARNES"), readings(10, station_id="NOT-IN-FLEET")]
    )
    pq.write_table(history, tmp_path / "readings.parquet")
    config = _config(tmp_path)
    assert main(["--config", str(config), "lake", "backfill", str(tmp_path)]) != 0
    assert not list((tmp_path / "hub").rglob("*.parquet"))
