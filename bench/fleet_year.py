"""What the warnings are worth: a fleet-year with warnings ignored vs acted on.

    .venv/bin/python bench/fleet_year.py                       # generate, score, compare
    .venv/bin/python bench/fleet_year.py --run var/bench/fleet_year_sim   # reuse a run

1. The simulator generates a year of the fleet (config/fleet.yaml: the ten Texas units,
   1-minute resolution, scenario `random`: equipment faults at 3 per unit-year, sensor
   faults, standby, planned maintenance).
2. The models' own warning logic scores it, as `altaviz-models evaluate` does: the edge
   detector walked forward (retrained weekly on what the hub would have had, each model
   scoring only later days; the first 14 days are training only) with its alarm
   hysteresis, plus the hub's discharge-temperature drift alerts. A warning = an alarm
   episode of either opening.
3. The year is played out twice over the simulator's event tables:
   - ignored: every equipment fault runs to its failure: an unplanned shutdown, down
     from the failure until the unit is back in service (the simulator's repair time);
   - acted: a warning on a unit dispatches a crew `--lead-h` hours later, when one of
     `--crews` crews is free (one job per unit at a time). A crew that arrives while a
     fault is developing (onset <= arrival < failure) repairs it in a planned shutdown;
     one that finds no developing fault is a false dispatch (an inspection shutdown).
     Planned jobs last what the simulator draws for planned maintenance (4-16 h, seeded);
     a fault that fails before its crew arrives is still an unplanned shutdown. After a
     planned repair the unit's later warnings from that fault are dropped (the degraded
     readings would not exist).
   The readings and warnings come from one simulation: the second play-out applies the
   dispatch policy to the same fleet-year (a repair changes what comes after it only as
   described above; the simulator is not re-run with the repairs in it).

Prints the counts and downtime of both play-outs, the commit and `uptime`, and ends with
RESULT fleet_year unplanned_ignored=<n> unplanned_acted=<n> reduction_pct=<x> false_dispatches=<n>
"""

from __future__ import annotations

import argparse
import heapq
import logging
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bench.common import commit  # noqa: E402
from models.anomaly import AnomalyConfig  # noqa: E402
from models.drift import DriftConfig, DriftLimits  # noqa: E402
from models.episodes import Episode  # noqa: E402
from models.fleet_runs import open_run  # noqa: E402
from models.pipeline import drift_episodes, prepare_run  # noqa: E402
from models.training_policy import TrainingPolicy  # noqa: E402
from simulator.random_events import MAINTENANCE_HOURS  # noqa: E402

log = logging.getLogger("fleet_year")


@dataclass
class Outcome:
    unplanned: int = 0
    unplanned_downtime_h: float = 0.0
    planned_repairs: int = 0
    false_dispatches: int = 0
    planned_downtime_h: float = 0.0
    late_dispatches: int = 0
    waits_h: list[float] = field(default_factory=list)
    #: Fault modes of the failures no crew prevented.
    missed_modes: dict[str, int] = field(default_factory=dict)
    #: False dispatches whose warning opened during a labelled sensor fault of the unit.
    false_during_sensor_fault: int = 0

    @property
    def downtime_h(self) -> float:
        return self.unplanned_downtime_h + self.planned_downtime_h


def generate(out: Path, duration: str) -> None:
    command = [sys.executable, "-m", "simulator", "--log-level", "WARNING", "generate",
               "--fleet", str(REPO / "config" / "fleet.yaml"), "--scenario", "random",
               "--duration", duration, "--resolution", "60", "--out", str(out), "--force"]  # fmt: skip
    subprocess.run(command, cwd=REPO, check=True, stdout=subprocess.DEVNULL)


def warnings_of(
    run_dir: Path,
) -> tuple[list[Episode], pd.DataFrame, pd.DataFrame, pd.Timestamp, pd.Timestamp]:
    """Alarm episodes of the edge detector and the hub's drift alerts, the equipment and
    sensor faults, the scored span."""
    run = open_run(run_dir)
    prepared = prepare_run(
        run,
        anomaly=AnomalyConfig(),
        policy=TrainingPolicy(),
        drift=DriftConfig(),
        limits=DriftLimits(),
    )
    scored_from = prepared.walk.scored_from
    assert scored_from is not None
    episodes = [*prepared.edge_episodes, *drift_episodes(prepared.drift)]
    warnings = sorted(
        (e for e in episodes if e.raised_at >= scored_from), key=lambda e: e.raised_at
    )
    return warnings, run.events.equipment_faults, run.events.sensor_faults, scored_from, run.end


def _failing(faults: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> pd.DataFrame:
    return faults[(faults["failure"] >= start) & (faults["failure"] < end)]


def ignored(faults: pd.DataFrame, start: pd.Timestamp, end: pd.Timestamp) -> Outcome:
    failing = _failing(faults, start, end)
    hours = (failing["back_in_service"] - failing["failure"]).dt.total_seconds() / 3600.0
    return Outcome(unplanned=len(failing), unplanned_downtime_h=float(hours.sum()))


def _during_sensor_fault(sensor: pd.DataFrame, warning: Episode, grace_s: float) -> bool:
    """As the evaluation scores it: the warning opened during a labelled sensor fault of the
    unit (or within one feature window after it)."""
    during = sensor[
        (sensor["compressor_id"] == warning.compressor_id)
        & (sensor["start"] <= warning.raised_at)
        & (sensor["end"] + pd.Timedelta(seconds=grace_s) > warning.raised_at)
    ]
    return bool(len(during))


def acted(
    warnings: list[Episode], faults: pd.DataFrame, sensor: pd.DataFrame, start: pd.Timestamp,
    end: pd.Timestamp, *, lead_h: float, crews: int, seed: int,
) -> Outcome:  # fmt: skip
    rng = np.random.default_rng(seed)
    outcome = Outcome()
    crew_free = [start] * crews  # when each crew is next free (a heap)
    busy_until: dict[str, pd.Timestamp] = {}  # per unit: no second dispatch before this
    caught: set[str] = set()
    for warning in warnings:
        unit = warning.compressor_id
        if warning.raised_at < busy_until.get(unit, start):
            continue  # a crew is already on its way, or the unit was just repaired
        wanted = warning.raised_at + pd.Timedelta(hours=lead_h)
        free = heapq.heappop(crew_free)
        arrival = max(wanted, free)
        if arrival >= end:
            heapq.heappush(crew_free, free)
            continue
        outcome.waits_h.append((arrival - wanted).total_seconds() / 3600.0)
        job_h = float(rng.uniform(*MAINTENANCE_HOURS))
        done = arrival + pd.Timedelta(hours=job_h)
        heapq.heappush(crew_free, done)
        unit_faults = faults[faults["compressor_id"] == unit]
        developing = unit_faults[
            (unit_faults["onset"] <= arrival) & (arrival < unit_faults["failure"])
        ]
        failed_first = unit_faults[
            (unit_faults["onset"] <= warning.raised_at) & (unit_faults["failure"] <= arrival)
            & (unit_faults["back_in_service"] > warning.raised_at)
        ]  # fmt: skip
        if len(developing):
            fault = developing.iloc[0]
            caught.add(str(fault["fault_id"]))
            outcome.planned_repairs += 1
            # The repaired unit's later warnings from this fault would not have happened.
            busy_until[unit] = max(done, pd.Timestamp(fault["back_in_service"]))
        elif len(failed_first):
            outcome.late_dispatches += 1  # the fault failed before the crew arrived
            busy_until[unit] = pd.Timestamp(failed_first["back_in_service"].max())
            job_h = 0.0  # the unplanned repair is counted below, not a second job
        else:
            outcome.false_dispatches += 1
            grace_s = float(AnomalyConfig().window_s)
            outcome.false_during_sensor_fault += _during_sensor_fault(sensor, warning, grace_s)
            busy_until[unit] = done
        outcome.planned_downtime_h += job_h
    failing = _failing(faults, start, end)
    missed = failing[~failing["fault_id"].astype(str).isin(caught)]
    outcome.unplanned = len(missed)
    outcome.missed_modes = {str(k): int(v) for k, v in missed["fault_mode"].value_counts().items()}
    outcome.unplanned_downtime_h = float(
        ((missed["back_in_service"] - missed["failure"]).dt.total_seconds() / 3600.0).sum()
    )
    return outcome


def _uptime() -> str:
    return subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout.strip()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--run", type=Path, help="an existing simulator run directory to reuse")
    parser.add_argument("--out", type=Path, default=REPO / "var" / "bench" / "fleet_year_sim")
    parser.add_argument("--duration", default="365d")
    parser.add_argument("--lead-h", type=float, default=24.0, help="warning -> crew on site, hours")
    parser.add_argument("--crews", type=int, default=2, help="crews for the whole fleet")
    parser.add_argument("--seed", type=int, default=1, help="seed of planned job durations")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    print(f"commit {commit()}; before: {_uptime()}")
    started = time.monotonic()
    run_dir = args.run
    if run_dir is None:
        generate(args.out, args.duration)
        run_dir = args.out
        print(
            f"simulated {args.duration} of config/fleet.yaml into {run_dir} in {time.monotonic() - started:.0f} s"
        )
    scoring = time.monotonic()
    warnings, faults, sensor, start, end = warnings_of(run_dir)
    units = open_run(run_dir).manifest.get("fleet", {}).get("compressor_count", "?")
    print(f"scored {start:%Y-%m-%d} .. {end:%Y-%m-%d} ({(end - start).days} days, {units} units): "
          f"{len(warnings)} warnings, {len(_failing(faults, start, end))} equipment failures "
          f"(models took {time.monotonic() - scoring:.0f} s)")  # fmt: skip
    base = ignored(faults, start, end)
    policy = acted(
        warnings, faults, sensor, start, end, lead_h=args.lead_h, crews=args.crews, seed=args.seed
    )
    print(f"policy: crew on site {args.lead_h:g} h after a warning, {args.crews} crews, planned jobs "
          f"{MAINTENANCE_HOURS[0]:g}-{MAINTENANCE_HOURS[1]:g} h")  # fmt: skip
    print(
        f"{'':24}{'unplanned':>10}{'downtime h':>12}{'planned repairs':>17}{'false dispatches':>18}"
    )
    for name, o in (("warnings ignored", base), ("maintenance on warning", policy)):
        print(
            f"{name:24}{o.unplanned:>10}{o.downtime_h:>12.0f}{o.planned_repairs:>17}{o.false_dispatches:>18}"
        )
    waits = policy.waits_h or [0.0]
    print(f"acted: {policy.late_dispatches} crews arrived after the failure; crew wait beyond the "
          f"lead time median {np.median(waits):.1f} h, max {max(waits):.1f} h; "
          f"unplanned downtime {base.unplanned_downtime_h:.0f} h -> {policy.unplanned_downtime_h:.0f} h, "
          f"planned job hours {policy.planned_downtime_h:.0f} h")  # fmt: skip
    missed = ", ".join(f"{mode} {n}" for mode, n in sorted(policy.missed_modes.items())) or "none"
    print(f"acted: failures not prevented by mode: {missed}; false dispatches after a warning "
          f"during a labelled sensor fault: {policy.false_during_sensor_fault} of "
          f"{policy.false_dispatches}")  # fmt: skip
    reduction = (
        100.0 * (base.unplanned - policy.unplanned) / base.unplanned if base.unplanned else 0.0
    )
    print(f"after: {_uptime()}; took {time.monotonic() - started:.0f} s")
    print(f"RESULT fleet_year unplanned_ignored={base.unplanned} unplanned_acted={policy.unplanned} "
          f"reduction_pct={reduction:.1f} false_dispatches={policy.false_dispatches}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
