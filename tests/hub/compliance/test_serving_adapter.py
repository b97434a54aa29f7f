"""Calculator inputs from the serving database's hourly aggregates, and the demo's year to
date per station (serving database + the simulator's blowdowns), on a migrated SQLite file."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine

from hub.compliance.demo import stations_ytd
from hub.compliance.report import as_json, calculate
from hub.compliance.schemas import GasComposition
from hub.compliance.serving_adapter import blowdowns_from_simulator, station_inputs
from hub.db.migrate import upgrade
from hub.db.models import Compressor, Organization, Station
from hub.db.session import make_engine, session_scope
from hub.serving.models import HourlyAggregate, MaintenanceEvent
from shared.fleet import load_fleet
from tests.hub.compliance.conftest import FLEET

ORG, STATION = "demo-org", "EF-KARNES"
JAN1 = datetime(2026, 1, 1, tzinfo=UTC)
GAS = GasComposition(ch4_mole_fraction=0.78, co2_mole_fraction=0.01)


def _hour(
    compressor_id: str, hour: int, running_minutes: int, discharge_psig: float | None
) -> HourlyAggregate:
    return HourlyAggregate(org_id=ORG, compressor_id=compressor_id, station_id=STATION,
                           hour_start=JAN1 + timedelta(hours=hour), n_readings=3600,
                           n_running_minutes=running_minutes, discharge_pressure_psi_mean=discharge_psig)  # fmt: skip


@pytest.fixture(scope="module")
def serving(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    """Three units; COMP-001 has 8 hourly rows from 1 Jan 00:00: 6 running, one half
    running then stopped at 800 psig, one stopped at 10 psig; a blowdown maintenance record."""
    url = f"sqlite:///{tmp_path_factory.mktemp('serving') / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    with session_scope(engine, org_id=ORG) as session:
        session.add(Organization(id=ORG, name="Demo Midstream", plan="enterprise"))
        session.add(Station(org_id=ORG, id=STATION, name="Karnes"))
        session.flush()
        session.add_all(
            Compressor(org_id=ORG, id=f"COMP-00{i}", station_id=STATION) for i in (1, 2, 3)
        )
        session.flush()
        session.add_all([_hour("COMP-001", h, 60, 900.0) for h in range(6)])
        session.add_all([_hour("COMP-001", 6, 30, 800.0), _hour("COMP-001", 7, 0, 10.0)])
        session.add(MaintenanceEvent(org_id=ORG, event_id="MX-1", compressor_id="COMP-002", station_id=STATION,
                                     kind="blowdown", started_at=JAN1 + timedelta(hours=3), source="operator"))  # fmt: skip
    yield engine
    engine.dispose()


def test_mode_hours_and_missing_hours_from_hourly_aggregates(serving: Engine) -> None:
    with session_scope(serving, org_id=ORG) as session:
        inputs = station_inputs(session, org_id=ORG, station_id=STATION, year=2026, through=JAN1 + timedelta(hours=10),
                                segment="gathering_boosting", gas_composition=GAS)  # fmt: skip
    unit = {c.id: c for c in inputs.compressors}["COMP-001"]
    # 6 h + 0.5 h running; 0.5 h stopped at 800 psig (pressurized); 1 h stopped at 10 psig.
    assert unit.hours == {
        "operating": 6.5,
        "standby_pressurized": 0.5,
        "not_operating_depressurized": 1.0,
    }
    # 10 h in the period, 8 with a row: 2 h without data.
    assert unit.hours_without_data == 2.0
    assert {c.id: c.hours_without_data for c in inputs.compressors}["COMP-003"] == 10.0
    result = as_json(calculate(inputs, year=2026))
    notes = result["missing_inputs"]
    assert (
        "reciprocating_compressor_venting COMP-001 (hours without data): 2 h of the period have no operating-state record"
        in notes
    )
    # The maintenance record of a blowdown has no volume: a missing line, not zero.
    assert any(
        n.startswith("blowdown_vent_stacks MX-1") and "volume, pressure, temperature" in n
        for n in notes
    )


def test_demo_year_to_date_per_station_with_the_simulators_blowdowns(
    serving: Engine, sim_run: Path, tmp_path: Path
) -> None:
    events = pq.read_table(sim_run / "blowdowns.parquet").to_pylist()
    through = datetime(2026, 4, 8, tzinfo=UTC)
    (ytd,) = stations_ytd(serving, org_id=ORG, fleet=load_fleet(FLEET), year=2026, through=through,
                          blowdown_events=events, out_dir=tmp_path)  # fmt: skip
    assert ytd.station_id == STATION
    assert sorted(p.name for p in ytd.exports) == sorted([
        "subpart-w-EF-KARNES-2026.csv", "subpart-w-EF-KARNES-2026.pdf",
        "subpart-w-EF-KARNES-2026-eggrt.json", "subpart-w-EF-KARNES-2026-eggrt.xml"])  # fmt: skip
    assert all(p.parent == tmp_path / STATION for p in ytd.exports)
    lines = {x.unit: x for x in ytd.result.lines if x.source == "blowdown_vent_stacks"}
    first = events[0]
    # Eq. W-33 by hand: V x 519.67 x (P + 14.7) / ((459.67 + 70 + 30) x 14.7), the station's
    # mean ambient 70 degF + 30 degF of settle-out gas.
    expected = (
        first["volume_ft3"] * 519.67 * (first["pressure_psig"] + 14.7) / ((459.67 + 100.0) * 14.7)
    )
    assert lines[first["event_id"]].gas_scf == pytest.approx(expected)
    assert len([e for e in events if e["station_id"] == STATION]) + 1 == len(
        lines
    )  # + the maintenance record
    # COMP-001 packing 2.49 scfh x 4 throws = 9.96 scfh as found, x 6.5 h operating = 64.74 scf.
    (operating,) = [
        x for x in ytd.result.lines if x.unit == "COMP-001" and x.detail == "operating mode"
    ]
    assert operating.gas_scf == pytest.approx(64.74)
    assert ytd.summary_line().startswith("EF-KARNES: ") and "input(s) missing" in ytd.summary_line()


def test_simulation_blowdown_objects_are_read_like_table_rows() -> None:
    from simulator.engine import Blowdown as SimBlowdown

    at = datetime(2026, 4, 5, 22, 13, 38, tzinfo=UTC)
    event = SimBlowdown(event_id="COMP-002.blowdown.1", station_id=STATION, compressor_id="COMP-002",
                        time_s=int(at.timestamp()), reason="planned maintenance", fault_id=None,
                        pressure_psig=351.5, volume_ft3=618.0, vented_scf=14414.1, methane_scf=11243.0)  # fmt: skip
    (blowdown,) = blowdowns_from_simulator([event], station_id=STATION, year=2026)
    assert (blowdown.at, str(blowdown.volume), str(blowdown.pressure)) == (
        at,
        "618 ft3",
        "351.5 psig",
    )
    assert blowdown.temperature is None  # not recorded by the simulator: missing unless given
    assert blowdowns_from_simulator([event], station_id=STATION, year=2025) == []


def test_demo_profiles_feed_the_portal_service(serving: Engine) -> None:
    from hub.compliance import service
    from hub.compliance.demo import seed_demo_profiles

    assert seed_demo_profiles(serving, org_id=ORG, fleet=load_fleet(FLEET)) == [STATION]
    with session_scope(serving, org_id=ORG) as session:
        result = service.station_result(session=session, org_id=ORG, station_id=STATION, year=2026,
                                        through=JAN1 + timedelta(hours=10))  # fmt: skip
    (operating,) = [
        x for x in result.lines if x.unit == "COMP-001" and x.detail == "operating mode"
    ]
    # The seeded as-found rate: 2.49 scfh per throw x 4 throws = 9.96 scfh, x 6.5 h.
    assert operating.gas_scf == pytest.approx(64.74) and operating.basis == "measured"
    assert result.rules.version.id == "subpart-w-2025"
