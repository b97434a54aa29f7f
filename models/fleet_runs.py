"""Read a simulator run directory (readings, ground truth, event tables) for training and evaluation.

The run directory format is the simulator's documented contract (docs/simulator.md,
"Ground truth"); this module reads the files, it does not import the simulator.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from models.errors import InputFileError

READINGS_FILE = "readings.parquet"
TRUTH_FILE = "truth.parquet"
EQUIPMENT_FAULTS_FILE = "equipment_faults.parquet"
SENSOR_FAULTS_FILE = "sensor_faults.parquet"
BLOWDOWNS_FILE = "blowdowns.parquet"
OPERATING_STATES_FILE = "operating_states.parquet"
RUN_FILE = "run.json"

#: Truth columns the models use (the rest of truth.parquet stays on disk).
TRUTH_COLUMNS = (
    "compressor_id",
    "timestamp",
    "operating_state",
    "ambient_temp_f",
    "fuel_scfh",
    "methane_vent_scfh",
    "fault_id",
    "fault_mode",
    "fault_severity",
    "time_to_failure_s",
    "sensor_fault_mask",
)


@dataclass(frozen=True)
class LabelledEvents:
    """What the hub knows about a period besides telemetry: faults, sensor faults, vents, modes."""

    equipment_faults: pd.DataFrame
    sensor_faults: pd.DataFrame
    blowdowns: pd.DataFrame
    operating_states: pd.DataFrame

    def known_failures(self, as_of: pd.Timestamp) -> pd.DataFrame:
        """Faults whose failure (trip) had happened by `as_of`: a maintenance record exists."""
        faults = self.equipment_faults
        return faults[faults["failure"] <= as_of]


@dataclass(frozen=True)
class FleetRun:
    """One run directory: where it is, its manifest, and its event tables."""

    path: Path
    manifest: dict[str, Any]
    events: LabelledEvents

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.manifest["start"])

    @property
    def end(self) -> pd.Timestamp:
        return pd.Timestamp(self.manifest["end"])

    @property
    def resolution_s(self) -> int:
        return int(self.manifest["resolution_s"])

    def readings(
        self,
        *,
        compressors: list[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pa.Table:
        """Reading rows (the shared reading schema), optionally one time range and some units."""
        return _read_filtered(self.path / READINGS_FILE, None, compressors, start, end)

    def truth(
        self,
        *,
        columns: tuple[str, ...] = TRUTH_COLUMNS,
        compressors: list[str] | None = None,
        start: pd.Timestamp | None = None,
        end: pd.Timestamp | None = None,
    ) -> pd.DataFrame:
        """Ground truth rows keyed like the readings (compressor_id, timestamp)."""
        table = _read_filtered(self.path / TRUTH_FILE, list(columns), compressors, start, end)
        return table.to_pandas()


def open_run(path: Path) -> FleetRun:
    """Open a run directory written by `altaviz-sim generate`."""
    path = Path(path)
    manifest_path = path / RUN_FILE
    if not manifest_path.is_file():
        raise InputFileError(f"{path} is not a simulator run directory (no {RUN_FILE})")
    manifest = json.loads(manifest_path.read_text())
    events = LabelledEvents(
        equipment_faults=_events(path / EQUIPMENT_FAULTS_FILE),
        sensor_faults=_events(path / SENSOR_FAULTS_FILE),
        blowdowns=_events(path / BLOWDOWNS_FILE),
        operating_states=_events(path / OPERATING_STATES_FILE),
    )
    for name in (READINGS_FILE, TRUTH_FILE):
        if not (path / name).is_file():
            raise InputFileError(f"{path} lacks {name}")
    return FleetRun(path=path, manifest=manifest, events=events)


def _events(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputFileError(f"{path.parent} lacks {path.name}")
    return pq.read_table(path).to_pandas()


def _read_filtered(
    path: Path,
    columns: list[str] | None,
    compressors: list[str] | None,
    start: pd.Timestamp | None,
    end: pd.Timestamp | None,
) -> pa.Table:
    filters: list[tuple[str, str, Any]] = []
    if compressors is not None:
        filters.append(("compressor_id", "in", list(compressors)))
    if start is not None:
        filters.append(("timestamp", ">=", pd.Timestamp(start).to_pydatetime()))
    if end is not None:
        filters.append(("timestamp", "<", pd.Timestamp(end).to_pydatetime()))
    try:
        table = pq.read_table(path, columns=columns, filters=filters or None)
    except (OSError, pa.ArrowInvalid) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from None
    return table

