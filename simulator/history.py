"""`altaviz-sim generate`: a run's history and ground truth as Parquet files.

Files are written deterministically (fixed row order, no wall-clock time in any
metadata), so the same fleet, scenario and seed give byte-identical files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shared.reading_table import READING_SCHEMA
from simulator import __version__
from simulator.engine import DEFAULT_CHUNK_CELLS, Simulation
from simulator.errors import OutputError
from simulator.scenario import scenario_document
from simulator.tables import (
    TRUTH_SCHEMA,
    blowdowns_table,
    equipment_faults_table,
    operating_states_table,
    readings_table,
    sensor_faults_table,
    sequence_numbers,
    truth_table,
)

log = logging.getLogger(__name__)

RUN_FORMAT = "altaviz-sim-run"
RUN_FORMAT_VERSION = 1
READINGS_FILE = "readings.parquet"
TRUTH_FILE = "truth.parquet"
EVENT_FILES = (
    "equipment_faults.parquet",
    "sensor_faults.parquet",
    "blowdowns.parquet",
    "operating_states.parquet",
)
_DICTIONARY_COLUMNS = ["station_id", "compressor_id", "operating_state", "fault_id", "fault_mode"]


@dataclass
class RunSummary:
    out_dir: Path
    rows: int = 0
    files: dict[str, dict[str, Any]] = field(default_factory=dict)


def _writer(path: Path, schema: pa.Schema) -> pq.ParquetWriter:
    return pq.ParquetWriter(
        path,
        schema,
        compression="zstd",
        use_dictionary=[c for c in _DICTIONARY_COLUMNS if c in schema.names],
        write_statistics=True,
        version="2.6",
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _run_metadata(sim: Simulation) -> dict[str, str]:
    scenario = sim.scenario
    return {
        "altaviz.sim.format": RUN_FORMAT,
        "altaviz.sim.simulator_version": __version__,
        "altaviz.sim.scenario": scenario.name,
        "altaviz.sim.seed": str(scenario.seed),
        "altaviz.sim.resolution_s": str(scenario.resolution_s),
    }


def _encoded(metadata: dict[str, str]) -> dict[bytes, bytes]:
    return {key.encode(): value.encode() for key, value in metadata.items()}


def _prepare(out_dir: Path, *, force: bool) -> Path:
    if out_dir.exists() and any(out_dir.iterdir()):
        if not force:
            raise OutputError(f"{out_dir}: not empty (use --force to replace a previous run)")
        if not (out_dir / "run.json").is_file():
            raise OutputError(f"{out_dir}: not a simulator run directory; refusing to replace it")
        shutil.rmtree(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"{out_dir}: cannot create ({exc.strerror or exc})") from None
    return out_dir


def write_history(
    sim: Simulation,
    out_dir: Path,
    *,
    events_only: bool = False,
    force: bool = False,
    chunk_cells: int = DEFAULT_CHUNK_CELLS,
) -> RunSummary:
    """Write readings, truth and event tables of the whole run into `out_dir`."""
    _prepare(out_dir, force=force)
    summary = RunSummary(out_dir)
    scenario = sim.scenario
    start, end, step = scenario.start_s, scenario.end_s, scenario.resolution_s
    metadata = _run_metadata(sim)
    if not events_only:
        readings_schema = READING_SCHEMA.with_metadata(
            {**(READING_SCHEMA.metadata or {}), **_encoded(metadata)}
        )
        truth_schema = TRUTH_SCHEMA.with_metadata(metadata)
        with (
            _writer(out_dir / READINGS_FILE, readings_schema) as readings,
            _writer(out_dir / TRUTH_FILE, truth_schema) as truth,
        ):
            for chunk in sim.chunks(chunk_cells=chunk_cells):
                seq = sequence_numbers(sim, chunk, start_s=start, step_s=step)
                table = readings_table(sim, chunk, seq)
                readings.write_table(table.replace_schema_metadata(readings_schema.metadata))
                truth.write_table(
                    truth_table(sim, chunk, seq).replace_schema_metadata(truth_schema.metadata)
                )
                summary.rows += table.num_rows
                log.debug("wrote %d readings up to %s", summary.rows, chunk.t[-1])
        for name in (READINGS_FILE, TRUTH_FILE):
            summary.files[name] = {"rows": summary.rows}
    events = {
        "equipment_faults.parquet": equipment_faults_table(sim, start, end),
        "sensor_faults.parquet": sensor_faults_table(sim, start, end),
        "blowdowns.parquet": blowdowns_table(sim, sim.blowdowns(), start, end),
        "operating_states.parquet": operating_states_table(sim, start, end),
    }
    for name, table in events.items():
        with _writer(out_dir / name, table.schema.with_metadata(metadata)) as writer:
            writer.write_table(table.replace_schema_metadata(metadata))
        summary.files[name] = {"rows": table.num_rows}
    for name, entry in summary.files.items():
        entry["sha256"] = _sha256(out_dir / name)
    _write_manifest(sim, summary)
    return summary


def _iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, UTC).isoformat().replace("+00:00", "Z")


def _write_manifest(sim: Simulation, summary: RunSummary) -> None:
    scenario = sim.scenario
    fleet_doc = json.dumps(sim.fleet.to_document(), sort_keys=True).encode("utf-8")
    manifest = {
        "format": RUN_FORMAT,
        "format_version": RUN_FORMAT_VERSION,
        "simulator_version": __version__,
        "scenario": scenario_document(scenario),
        "seed": scenario.seed,
        "start": _iso(scenario.start_s),
        "end": _iso(scenario.end_s),
        "resolution_s": scenario.resolution_s,
        "fleet": {
            "sha256": hashlib.sha256(fleet_doc).hexdigest(),
            "organisations": sorted({o for o in sim.org_ids}),
            "stations": [
                {
                    "station_id": s.id,
                    "register_map": s.panel.register_map,
                    "compressors": [c.id for c in s.compressors],
                }
                for s in sim.units.stations
            ],
            "compressor_count": len(sim.units),
        },
        "files": summary.files,
    }
    path = summary.out_dir / "run.json"
    path.write_text(json.dumps(manifest, indent=2, sort_keys=True) + "\n", encoding="utf-8")
