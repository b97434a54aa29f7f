"""`generate`: history and ground-truth files, deterministic to the byte."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from shared.reading_table import READING_SCHEMA
from shared.register_map import find_register_map, quantize_array
from shared.schema import SENSOR_FIELDS, ReadingFlag
from simulator.engine import Simulation
from simulator.errors import OutputError
from simulator.history import EVENT_FILES, write_history
from simulator.scenario import load_scenario
from simulator.tables import TRUTH_SCHEMA
from tests.simulator.support import default_fleet, scenario

FILES = ("readings.parquet", "truth.parquet", *EVENT_FILES, "run.json")


def prototype(seed: int | None = None) -> Simulation:
    story = load_scenario("prototype-7day").with_overrides(seed=seed)
    return Simulation(default_fleet(), story)


@pytest.fixture(scope="module")
def story_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("story") / "run"
    write_history(prototype(), out)
    return out


def test_same_seed_gives_byte_identical_files(story_run: Path, tmp_path: Path) -> None:
    again = tmp_path / "again"
    write_history(prototype(), again, chunk_cells=7_777)  # a different chunking, too
    for name in FILES:
        assert (story_run / name).read_bytes() != b""
    for name in EVENT_FILES:
        assert (story_run / name).read_bytes() == (again / name).read_bytes(), name
    # same content whatever the chunk size; same bytes with the same chunk size
    for name in ("readings.parquet", "truth.parquet"):
        assert _same_rows(story_run / name, again / name), name
    third = tmp_path / "third"
    write_history(prototype(), third)
    for name in FILES:
        assert (story_run / name).read_bytes() == (third / name).read_bytes(), name


def _same_rows(a: Path, b: Path) -> bool:
    keys = [("compressor_id", "ascending"), ("seq", "ascending")]
    return pq.read_table(a).sort_by(keys).equals(pq.read_table(b).sort_by(keys))


def test_a_different_seed_gives_different_readings(story_run: Path, tmp_path: Path) -> None:
    other = tmp_path / "other"
    write_history(prototype(seed=43), other)
    first = pq.read_table(story_run / "readings.parquet", columns=["discharge_temp_f"])
    second = pq.read_table(other / "readings.parquet", columns=["discharge_temp_f"])
    assert not first.equals(second)


def test_readings_follow_the_shared_schema_and_register_resolution(story_run: Path) -> None:
    table = pq.read_table(story_run / "readings.parquet")
    assert table.schema.equals(READING_SCHEMA, check_metadata=False)
    assert table.schema.metadata[b"altaviz.schema_version"] == b"1"
    assert table.num_rows == 10 * 7 * 1440
    assert (
        pc.bit_wise_and(table["reading_flags"], int(ReadingFlag.SIMULATED)).to_numpy() > 0
    ).all()
    # seq is per station, 1..n without gaps or repeats
    for station in set(table["station_id"].to_pylist()):
        seqs = np.sort(table.filter(pc.equal(table["station_id"], station))["seq"].to_numpy())
        np.testing.assert_array_equal(seqs, np.arange(1, len(seqs) + 1))
    # every value sits exactly on its station's register resolution
    fleet = default_fleet()
    for station in fleet.stations():
        register_map = find_register_map(station.panel.register_map)
        rows = table.filter(pc.equal(table["station_id"], station.id))
        for sensor in SENSOR_FIELDS:
            values = rows[sensor].to_numpy(zero_copy_only=False).astype(np.float64)
            values = values[~np.isnan(values)]
            requantized = quantize_array(register_map.point(sensor), values).astype(np.float32)
            np.testing.assert_array_equal(
                values.astype(np.float32), requantized, err_msg=f"{station.id} {sensor}"
            )


def test_truth_is_keyed_like_the_readings(story_run: Path) -> None:
    readings = pq.read_table(
        story_run / "readings.parquet", columns=["compressor_id", "timestamp", "seq"]
    )
    truth = pq.read_table(story_run / "truth.parquet")
    assert truth.schema.equals(TRUTH_SCHEMA, check_metadata=False)
    assert truth.select(["compressor_id", "timestamp", "seq"]).equals(readings)
    keys = truth.group_by(["compressor_id", "timestamp"]).aggregate([]).num_rows
    assert keys == truth.num_rows  # (compressor_id, timestamp) is unique, clock skew included
    skewed = pc.not_equal(truth["timestamp"], truth["true_timestamp"])
    assert pc.sum(skewed).as_py() > 0
    comp003 = truth.filter(pc.equal(truth["compressor_id"], "COMP-003"))
    labelled = comp003.filter(pc.is_valid(comp003["fault_mode"]))
    assert set(labelled["fault_mode"].to_pylist()) == {"valve_leak"}
    assert labelled.num_rows == (3 * 24 + 20) * 60  # from onset (+3d) to repair (+6d20h)


def test_event_tables(story_run: Path) -> None:
    faults = pq.read_table(story_run / "equipment_faults.parquet").to_pylist()
    assert [(f["compressor_id"], f["fault_mode"], f["failure_in_run"]) for f in faults] == [
        ("COMP-003", "valve_leak", True),
        ("COMP-007", "bearing_wear", False),
    ]
    assert faults[0]["org_id"] == "demo-org" and faults[0]["shutdown"] == faults[0]["failure"]
    sensor = pq.read_table(story_run / "sensor_faults.parquet").to_pylist()
    assert {s["kind"] for s in sensor} == {"stuck", "dropout", "spike", "drift", "clock_skew"}
    blowdowns = pq.read_table(story_run / "blowdowns.parquet").to_pylist()
    assert {(b["compressor_id"], b["reason"]) for b in blowdowns} == {
        ("COMP-003", "trip: valve_leak"),
        ("COMP-010", "planned maintenance"),
    }
    for blowdown in blowdowns:
        assert blowdown["methane_scf"] == pytest.approx(
            blowdown["vented_scf"] * blowdown["methane_mole_fraction"], rel=1e-3
        )
    states = pq.read_table(story_run / "operating_states.parquet")
    per_unit = states.group_by("compressor_id").aggregate([("duration_s", "sum")])
    assert set(per_unit["duration_s_sum"].to_pylist()) == {7 * 86400}
    assert "standby_pressurized" in states["operating_state"].to_pylist()


def test_manifest_describes_the_run(story_run: Path) -> None:
    manifest = json.loads((story_run / "run.json").read_text())
    assert manifest["format"] == "altaviz-sim-run" and manifest["seed"] == 42
    assert manifest["start"] == "2026-07-06T00:00:00Z" and manifest["resolution_s"] == 60
    assert manifest["fleet"]["compressor_count"] == 10
    assert set(manifest["files"]) == set(FILES) - {"run.json"}
    assert manifest["scenario"]["name"] == "prototype-7day"


def test_refuses_to_overwrite_without_force(story_run: Path, tmp_path: Path) -> None:
    sim = Simulation(default_fleet(), scenario(duration="1h"))
    with pytest.raises(OutputError, match="not empty"):
        write_history(sim, story_run)
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not a simulator run"):
        write_history(sim, foreign, force=True)
    summary = write_history(sim, tmp_path / "events", events_only=True)
    assert "readings.parquet" not in summary.files and summary.rows == 0
