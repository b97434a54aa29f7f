"""Simulator history -> landing -> bronze -> silver -> gold -> the serving database on PostgreSQL.

A 42-hour run of the default fleet: one of each sensor fault the quality rules must
catch on the first day (a stuck sensor, a dropout, a gateway clock skew), then a unit
that degrades and trips on the second day, when a day of its own history is the
baseline its "rising" conditions compare with.
"""

from __future__ import annotations

import statistics
from datetime import timedelta
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable
from pyspark.sql import functions as F
from sqlalchemy import func, select

from hub.db.session import make_engine, session_scope
from hub.ingest.landing import LandingZone
from hub.lakehouse.backfill import land_history
from hub.lakehouse.flags import ReadingRule, SensorRule
from hub.lakehouse.io import Lake
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.tables import (
    ALERT_EPISODES,
    ALL_TABLES,
    DATA_QUALITY,
    HOURLY,
    MODEL_SCORES,
    SILVER_READINGS,
)
from hub.serving.models import (
    AlertEpisode,
    CompressorStatus,
    DailyAggregate,
    HourlyAggregate,
    Prediction,
    StationFreshness,
)
from hub.serving.sync import prepare_serving
from shared import performance as perf
from shared.fleet import Fleet, load_fleet
from simulator.engine import Simulation
from simulator.history import write_history
from simulator.scenario import load_scenario_data
from tests.conftest import REPO_ROOT
from tests.hub.lakehouse.support import lake_settings
from tests.support.db import app_role_url, fresh_postgres_database
from tests.support.services import Postgres

pytestmark = [pytest.mark.spark, pytest.mark.postgres, pytest.mark.slow]

SCENARIO = {
    "name": "lake-e2e",
    "seed": 5,
    "start": "2026-07-06T00:00:00Z",
    "duration": "1d18h",
    "resolution_s": 60,
    "equipment_faults": [
        {"compressor": "COMP-003", "mode": "valve_leak", "onset": "+1d2h", "failure": "+1d14h", "repair": "+1d16h"}
    ],
    "sensor_faults": [
        {"kind": "stuck", "compressor": "COMP-002", "sensor": "discharge_temp_f", "start": "+2h", "end": "+4h"},
        {"kind": "dropout", "compressor": "COMP-009", "start": "+5h", "end": "+5h25m"},
        {"kind": "clock_skew", "station": "PB-MIDLAND", "start": "+6h", "end": "+8h", "magnitude": 120},
    ],
}  # fmt: skip
HEALTHY = {"COMP-001", "COMP-007", "COMP-008", "COMP-010"}
READINGS = 10 * 42 * 60


def _history(root: Path) -> Path:
    fleet = load_fleet(REPO_ROOT / "config" / "fleet.yaml")
    sim = Simulation(fleet, load_scenario_data(SCENARIO, source="test"))
    write_history(sim, root)
    return root


def _flagged_within(silver, compressors, start, end, *, reading=0, sensor=None, bit=0):  # type: ignore[no-untyped-def]
    rows = silver.filter(F.col("compressor_id").isin(*compressors)).filter(
        (F.col("timestamp") >= start) & (F.col("timestamp") < end)
    )
    mask = (
        F.col("rule_flags").bitwiseAND(reading)
        if reading
        else F.col(f"{sensor}_flags").bitwiseAND(bit)
    )
    return rows.count(), rows.filter(mask != 0).count()


def test_simulator_history_to_postgres(spark, postgres: Postgres, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    history = _history(tmp_path / "sim")
    owner_url = fresh_postgres_database(postgres)
    settings = lake_settings(
        tmp_path,
        # A URI, as abfss:// or s3a:// roots are: no code path may assume a local directory.
        lake_root=(tmp_path / "lake").resolve().as_uri(),
        database_url=app_role_url(postgres, owner_url),
        pipeline={"late_horizon_h": 1e6, "auto_migrate": False, "seed_fleet": str(REPO_ROOT / "config" / "fleet.yaml")},
        quality={"expected_interval_s": 60},
    )  # fmt: skip
    zone = LandingZone(settings.landing_dir, settings.quarantine_dir)
    fleet = load_fleet(REPO_ROOT / "config" / "fleet.yaml")
    batches, landed = land_history(history, zone, fleet=fleet, rows_per_batch=2000)
    assert landed == READINGS and batches >= 12
    run_once(spark, settings, after_commit=prepare_serving(settings))

    lake = Lake(spark, settings.lake_root)
    silver = lake.read(SILVER_READINGS).cache()
    # Nothing dropped or changed: every reading of the failing unit is there as reported.
    sent = pq.read_table(history / "readings.parquet")
    assert silver.count() == sent.num_rows
    failing = sent.filter(pc.equal(sent["compressor_id"], "COMP-003"))
    kept = (
        silver.filter(F.col("compressor_id") == "COMP-003")
        .select("seq", "discharge_temp_f")
        .collect()
    )
    assert sorted((r.seq, r.discharge_temp_f) for r in kept) == sorted(
        zip(failing["seq"].to_pylist(), failing["discharge_temp_f"].to_pylist(), strict=True)
    )
    start = sent["timestamp"][0].as_py().replace(tzinfo=None)

    def at(hours: float):  # type: ignore[no-untyped-def]
        return start + timedelta(hours=hours)

    total, stuck = _flagged_within(
        silver, ["COMP-002"], at(2), at(4), sensor="discharge_temp_f", bit=SensorRule.STUCK
    )
    assert total == 120 and stuck == 120
    total, lost = _flagged_within(
        silver, ["COMP-009"], at(5), at(5 + 25 / 60), reading=ReadingRule.COMM_LOSS
    )
    assert total == 25 and lost == 25
    skewed_units = ["COMP-004", "COMP-005", "COMP-006"]
    total, skewed = _flagged_within(
        silver, skewed_units, at(6), at(8), reading=ReadingRule.CLOCK_SKEW
    )
    assert skewed >= 0.9 * total > 0
    assert (
        _flagged_within(silver, sorted(HEALTHY), at(0), at(42), reading=ReadingRule.CLOCK_SKEW)[1]
        == 0
    )

    quality = {r.compressor_id: r for r in lake.read(DATA_QUALITY).groupBy("compressor_id").agg(
        *(F.sum(c).alias(c) for c in ("n_stuck", "n_comm_loss", "n_clock_skew", "n_readings"))
    ).collect()}  # fmt: skip
    assert quality["COMP-002"].n_stuck >= 120
    assert quality["COMP-009"].n_comm_loss == 25
    # Counted over the whole run: the reading after the skew ends comes a slewed second early.
    _, skewed_all = _flagged_within(
        silver, skewed_units, at(0), at(42), reading=ReadingRule.CLOCK_SKEW
    )
    assert skewed <= skewed_all <= skewed + len(skewed_units)
    assert sum(quality[c].n_clock_skew for c in skewed_units) == skewed_all
    assert sum(r.n_readings for r in quality.values()) == READINGS

    episodes = lake.read(ALERT_EPISODES).collect()
    assert {e.compressor_id for e in episodes} & HEALTHY == set()  # no alert from noise alone
    degrading = [e for e in episodes if e.compressor_id == "COMP-003" and e.category == "equipment"]
    assert degrading and all(at(26) <= e.opened_at <= at(38) for e in degrading)  # before the trip
    assert any(e.condition == "comm_loss" and e.compressor_id == "COMP-009" for e in episodes)

    _hourly_performance_matches_the_formulas(lake, fleet, degrading_from=at(30))

    engine = make_engine(settings.database_url)  # the application role: row-level security on
    with session_scope(engine, org_id="demo-org") as session:
        assert session.scalar(select(func.count()).select_from(CompressorStatus)) == 10
        assert session.scalar(select(func.count()).select_from(HourlyAggregate)) == 10 * 42
        assert session.scalar(select(func.count()).select_from(StationFreshness)) == 4
        assert session.scalar(select(func.count()).select_from(DailyAggregate)) == 10 * 2
        scores = lake.count(MODEL_SCORES)
        assert 10 * 40 <= scores <= 10 * 42  # a physics health score per running compressor-hour
        assert session.scalar(select(func.count()).select_from(Prediction)) == scores
        served = session.scalars(select(AlertEpisode)).all()
        assert {e.episode_id for e in served} == {e.episode_id for e in episodes}
        assert all(e.org_id == "demo-org" for e in served)
        served_perf = session.scalars(
            select(HourlyAggregate.adiabatic_efficiency).where(
                HourlyAggregate.compressor_id == "COMP-001",
                HourlyAggregate.adiabatic_efficiency.is_not(None),
            )
        ).all()
        assert len(served_perf) >= 30 and all(0.3 < e < 1.2 for e in served_perf)
        hot = session.get(CompressorStatus, ("demo-org", "COMP-003"))
        assert hot is not None and hot.as_of is not None
    with session_scope(engine, org_id="another-org") as session:
        assert session.scalars(select(AlertEpisode)).all() == []

    _independent_reader_agrees(lake)


def _hourly_performance_matches_the_formulas(lake: Lake, fleet: Fleet, degrading_from) -> None:  # type: ignore[no-untyped-def]
    """Gold's hourly performance figures are shared.performance over the hour's running means;
    the failing unit's discharge temperature climbs away from the ideal before its trip."""
    stages = {
        c.id: c.stages for o in fleet.organisations for s in o.stations for c in s.compressors
    }
    rows = lake.read(HOURLY).collect()
    checked = 0
    for row in rows:
        if row.n_running_minutes < perf.MIN_RUNNING_MINUTES_PER_HOUR:
            assert row.stage_compression_ratio is None and row.adiabatic_efficiency is None
            continue
        n = stages[row.compressor_id]
        ratio = perf.stage_compression_ratio(
            row.suction_pressure_psi_running_mean, row.discharge_pressure_psi_running_mean, n
        )
        ideal = perf.isentropic_discharge_temp_f(perf.DEFAULT_STAGE_INLET_TEMP_F, ratio)
        assert row.stage_compression_ratio == pytest.approx(ratio)
        assert row.ideal_discharge_temp_f == pytest.approx(ideal)
        measured = row.discharge_temp_f_running_mean  # none when the sensor failed all hour
        assert row.discharge_temp_excess_f == (
            None if measured is None else pytest.approx(measured - ideal)
        )
        checked += 1
    assert checked >= 10 * 30

    def excess(after: bool) -> float:
        values = [r.discharge_temp_excess_f for r in rows if r.compressor_id == "COMP-003"
                  and r.discharge_temp_excess_f is not None
                  and (r.hour_start >= degrading_from) == after]  # fmt: skip
        return statistics.median(values)

    assert excess(after=True) > excess(after=False) + 5.0


_DELTA_TYPES = {"bigint": "long", "int": "integer", "smallint": "short", "tinyint": "byte"}


def _independent_reader_agrees(lake: Lake) -> None:
    """delta-rs (no Spark) reads every table with the schema documented in hub.lakehouse.tables."""
    for spec in ALL_TABLES:
        table = DeltaTable(lake.path(spec))
        found = [(f.name, f.type.type, f.nullable) for f in table.schema().fields]
        documented = [
            (
                f.name,
                _DELTA_TYPES.get(f.dataType.simpleString(), f.dataType.simpleString()),
                f.nullable,
            )
            for f in spec.schema.fields
        ]
        if spec.layer == "bronze":  # written by a stream: every column nullable
            found = [(name, kind, True) for name, kind, _ in found]
            documented = [(name, kind, True) for name, kind, _ in documented]
        assert found == documented, spec.name
        assert table.to_pyarrow_table().num_rows == lake.count(spec), spec.name
