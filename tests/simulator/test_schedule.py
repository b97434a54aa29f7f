"""Schedules: random events from the seed, scripted events, and their rules."""

from __future__ import annotations

import itertools
from collections import Counter
from datetime import UTC, datetime

import pytest

from shared.fleet import DEFAULT_FLEET_PATH, load_fleet
from simulator.engine import Simulation
from simulator.errors import ScenarioError
from simulator.scenario import load_scenario, parse_duration, resolve_instant
from simulator.schedule import NEVER, STARTUP_S
from tests.simulator.support import default_fleet, scenario, simulation


@pytest.fixture(scope="module")
def random_run() -> Simulation:
    return Simulation(default_fleet(), load_scenario("random").with_overrides(duration="365d"))


def test_random_events_cover_every_kind(random_run: Simulation) -> None:
    schedule = random_run.schedule
    modes = Counter(f.mode for f in schedule.faults)
    assert set(modes) == {
        "valve_leak",
        "bearing_wear",
        "cooler_fouling",
        "rod_packing_leak",
        "driver_problem",
    }
    assert 15 <= len(schedule.faults) <= 60  # ~3 per unit-year, fewer where they would overlap
    assert {s.kind for s in schedule.sensor_faults} == {
        "stuck",
        "dropout",
        "spike",
        "drift",
        "clock_skew",
    }
    reasons = Counter(o.reason for o in schedule.outages)
    assert reasons["low demand"] > 50 and reasons["planned maintenance"] > 10
    assert all(f.source == "random" for f in schedule.faults)


def test_a_unit_has_one_fault_and_one_outage_at_a_time(random_run: Simulation) -> None:
    schedule = random_run.schedule
    for u, compressor_id in enumerate(random_run.units.compressor_ids):
        faults = schedule.faults_by_unit[u]
        for earlier, later in itertools.pairwise(faults):
            assert earlier.repair is not None and earlier.repair + STARTUP_S <= later.onset
        windows = sorted(
            (o.start, NEVER if o.end is None else o.end + STARTUP_S)
            for o in schedule.outages
            if o.compressor_id == compressor_id
        )
        for (_, end), (start, _) in itertools.pairwise(windows):
            assert end <= start
        # no standby or maintenance while a fault is developing
        for fault in faults:
            for outage in (
                o
                for o in schedule.outages
                if o.compressor_id == compressor_id and o.fault_id is None
            ):
                assert (
                    outage.start >= fault.repair + STARTUP_S
                    or outage.end + STARTUP_S <= fault.onset
                )  # type: ignore[operator]


def test_cooler_fouling_needs_an_intercooled_unit(random_run: Simulation) -> None:
    single_stage = {
        cid
        for cid, stages in zip(
            random_run.units.compressor_ids, random_run.units["stages"], strict=True
        )
        if stages == 1
    }
    assert single_stage == {"COMP-007", "COMP-008"}
    assert not [
        f
        for f in random_run.schedule.faults
        if f.mode == "cooler_fouling" and f.compressor_id in single_stage
    ]


def test_random_events_do_not_depend_on_the_horizon_or_the_fleet(random_run: Simulation) -> None:
    short = Simulation(default_fleet(), load_scenario("random").with_overrides(duration="60d"))
    cutoff = short.scenario.end_s
    assert short.schedule.faults == [f for f in random_run.schedule.faults if f.onset < cutoff]
    assert short.schedule.sensor_faults == [
        s for s in random_run.schedule.sensor_faults if s.start < cutoff
    ]
    # one station alone has the same events as in the whole fleet
    alone = Simulation(default_fleet(), random_run.scenario, stations=["HV-CARTHAGE"])
    assert alone.schedule.faults == [
        f for f in random_run.schedule.faults if f.station_id == "HV-CARTHAGE"
    ]


def test_a_different_seed_draws_different_events(random_run: Simulation) -> None:
    other = Simulation(default_fleet(), random_run.scenario.with_overrides(seed=8))
    assert other.schedule.faults != random_run.schedule.faults


def test_large_fleet_schedule_is_quick_and_complete() -> None:
    fleet = load_fleet(DEFAULT_FLEET_PATH.parent / "fleet-1000.yaml")
    sim = Simulation(fleet, load_scenario("random").with_overrides(duration="30d"))
    assert len(sim.units) == 1000
    assert len({f.compressor_id for f in sim.schedule.faults}) > 100


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        (
            {
                "equipment_faults": [
                    {
                        "compressor": "COMP-001",
                        "mode": "valve_leak",
                        "onset": "+5h",
                        "failure": "+2h",
                    }
                ]
            },
            "onset < failure",
        ),
        (
            {
                "equipment_faults": [
                    {
                        "compressor": "COMP-404",
                        "mode": "valve_leak",
                        "onset": "+1h",
                        "failure": "+2h",
                    }
                ]
            },
            "not in the fleet",
        ),
        (
            {
                "equipment_faults": [
                    {"compressor": "COMP-001", "mode": "gremlins", "onset": "+1h", "failure": "+2h"}
                ]
            },
            "mode",
        ),
        (
            {
                "operating_events": [
                    {
                        "compressor": "COMP-001",
                        "state": "standby_pressurized",
                        "start": "+1h",
                        "end": "+3h",
                    },
                    {
                        "compressor": "COMP-001",
                        "state": "shutdown_depressurized",
                        "start": "+2h",
                        "end": "+4h",
                    },
                ]
            },
            "overlaps another fault or outage",
        ),
        (
            {
                "equipment_faults": [
                    {
                        "compressor": "COMP-001",
                        "mode": "valve_leak",
                        "onset": "+1h",
                        "failure": "+5h",
                        "repair": "+6h",
                    }
                ],
                "operating_events": [
                    {
                        "compressor": "COMP-001",
                        "state": "standby_pressurized",
                        "start": "+5h10m",
                        "end": "+5h30m",
                    }
                ],
            },
            "overlaps",
        ),
        ({"start": "2026-07-06T00:00:30Z"}, "multiple of resolution_s"),
        ({"duration": "0s"}, "duration must be > 0"),
        ({"random": {"mode_weights": {"gremlins": 1}}}, "unknown fault mode"),
    ],
)
def test_bad_scenarios_are_refused_with_a_reason(fields: dict[str, object], problem: str) -> None:
    with pytest.raises(ScenarioError, match=problem):
        simulation(**fields)


def test_durations_and_instants() -> None:
    assert parse_duration("6d10h") == 6 * 86400 + 36000
    assert parse_duration("90m") == 5400 and parse_duration(45) == 45 and parse_duration("60") == 60
    for bad in ("soon", "1w", "-3h", "1.5s"):
        with pytest.raises(ValueError):
            parse_duration(bad)
    start = int(datetime(2026, 7, 6, tzinfo=UTC).timestamp())
    assert resolve_instant("+1d", start) == start + 86400
    assert resolve_instant("2026-07-07T00:00:00Z", start) == start + 86400
    with pytest.raises(ValueError, match="timezone"):
        resolve_instant("2026-07-07T00:00:00", start)
    assert scenario(duration="2h").end_s == scenario().start_s + 7200
