"""The demo's simulated clock: owned here, paced to what the lakehouse has served.

Every station (panel or simulated source) follows one clock through a segment file
(`simulator.live.ClockSegment`): simulated time runs at `speed` and holds when the
stations are more than `lead_s` ahead of the newest data the lake has served, so the
portal never falls days behind the stations. With a DURATION the speed is chosen so
that the scenario's story reaches its end with time left for the lake to serve it.
Hub-side receipt stamps use the same clock, so lags are in simulated time too.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from simulator.live import ClockSegment

#: The stations never run further than this past what the lake has taken (simulated s).
MIN_LEAD_S = 3600.0
#: Lake cycles (wall seconds) assumed before one has been measured.
FIRST_CYCLE_S = 60.0
#: Wall seconds a DURATION run keeps for Spark's start.
START_ALLOWANCE_S = 30.0
#: Lake cycles a DURATION run keeps at its end to serve the story's last data.
TAIL_CYCLES = 2.0
#: The lake serves at least this many steps of the story (so a short episode, such as
#: COMP-003's critical hours before its trip, is on the portal while it lasts).
MIN_STEPS = 12
#: ... unless a DURATION leaves no room for that many lake cycles: then at least this many
#: (the story's last step stays on the portal until the run ends, its summary after).
DURATION_MIN_STEPS = 4
#: The lake serves the story exactly this long before each unit's trip (a step ends
#: there), so the critical hours before it are on the portal however large the steps.
#: A story started at noon UTC (hub/demo/story.py) has COMP-003 above its critical limit
#: from 2.8 h before its trip at the latest (tests/hub/test_demo_story.py).
BEFORE_TRIP_S = 1 * 3600.0
#: Speed limits (simulated seconds per wall second).
MIN_SPEED, MAX_SPEED = 60.0, 10_000.0


def day_of(moment_s: float, start_s: float) -> float:
    """Scenario day of an instant, counted from 0 as the scenario text counts."""
    return (moment_s - start_s) / 86_400


@dataclass
class Pacer:
    """Speed and hold point of the simulated clock, from the run's budget and the lake's pace.

    The stations advance at most one lake cycle's worth of simulated time (at the
    planned speed, and at most 1/MIN_STEPS of the story; a DURATION run's speed spreads
    the story over the cycles its budget holds, at most 1/DURATION_MIN_STEPS each) past
    the data the lake's current run took, and never past a `step_ends` instant the lake
    has not taken yet: when the lake is slower than that, the stations wait for its next
    run. A DURATION run plans the speed so the rest of the story fits before the end
    with TAIL_CYCLES lake cycles left to serve it, and runs faster after waiting.
    """

    story_end_s: float | None
    speed: float
    taken_s: float
    story_s: float  # the whole story's length (simulated s)  # simulated time of the newest data the lake's current run took
    deadline: float | None = None  # time.monotonic() when a DURATION run stops
    #: Instants (simulated s) a step of the lake ends on: the stations wait there until
    #: the lake's next run has taken them (BEFORE_TRIP_S before each trip of the story).
    step_ends: tuple[float, ...] = ()
    cycles: list[float] = field(default_factory=list)  # the lake's recent cycle times (wall s)

    @classmethod
    def for_run(
        cls,
        *,
        now_s: float,
        story_end_s: float | None,
        duration_s: float | None,
        speed: float | None,
        default_speed: float,
        story_s: float,
        step_ends: tuple[float, ...] = (),
    ) -> Pacer:
        """`speed` given wins; else a DURATION run fits the rest of the story in its budget."""
        remaining = None if story_end_s is None else story_end_s - now_s
        if speed is None and duration_s is not None and remaining and remaining > 0:
            budget = max(
                duration_s - START_ALLOWANCE_S - TAIL_CYCLES * FIRST_CYCLE_S, duration_s / 3
            )
            speed = min(max(remaining / budget, MIN_SPEED), MAX_SPEED)
        deadline = None if duration_s is None else time.monotonic() + duration_s
        return cls(
            story_end_s if remaining and remaining > 0 else None,
            speed or default_speed,
            now_s,
            story_s,
            deadline,
            tuple(sorted(step_ends)),
        )

    def speed_at(self, now_s: float) -> float:
        """A DURATION run speeds up after waiting, so the story still ends in time to serve it."""
        if self.deadline is None or self.story_end_s is None or now_s >= self.story_end_s:
            return self.speed
        left = self.deadline - time.monotonic() - TAIL_CYCLES * self.cycle_s
        wanted = (self.story_end_s - now_s) / max(left, 1.0)
        return min(max(self.speed, wanted), MAX_SPEED)

    def lake_run_started(self, stations_s: float) -> None:
        self.taken_s = max(self.taken_s, stations_s)

    def lake_cycle(self, seconds: float) -> None:
        self.cycles = [*self.cycles[-4:], seconds]

    @property
    def cycle_s(self) -> float:
        return statistics.median(self.cycles) if self.cycles else FIRST_CYCLE_S

    @property
    def min_steps(self) -> int:
        """Steps the lake serves the story in at least: fewer when a DURATION is short."""
        return MIN_STEPS if self.deadline is None else DURATION_MIN_STEPS

    @property
    def lead_s(self) -> float:
        """How far (simulated s) the stations may run past the data the lake has taken."""
        return max(MIN_LEAD_S, min(self.cycle_s * self.speed, self.story_s / self.min_steps))

    def hold_s(self) -> float:
        hold = self.taken_s + self.lead_s
        ahead = [end for end in self.step_ends if end > self.taken_s]
        if ahead:
            hold = min(hold, ahead[0])
        return hold if self.story_end_s is None else min(hold, self.story_end_s)


class PacedClock:
    """The simulated clock every station reads (through `path`), steered by the demo."""

    def __init__(self, path: Path, *, start_s: float, speed: float, hold_s: float | None) -> None:
        self.path = path
        self.segment = ClockSegment(start_s, time.time(), speed, hold_s)
        path.parent.mkdir(parents=True, exist_ok=True)
        self.segment.write(path)

    def now_s(self) -> float:
        return self.segment.at(time.time())

    def now(self) -> datetime:
        return datetime.fromtimestamp(self.now_s(), UTC)

    @property
    def held(self) -> bool:
        hold = self.segment.hold_s
        return hold is not None and self.now_s() >= hold

    def steer(self, *, speed: float, hold_s: float | None) -> None:
        """A new segment from now when the speed or the hold point moved."""
        old = self.segment
        same_hold = (hold_s is None) == (old.hold_s is None) and (
            hold_s is None or old.hold_s is None or abs(hold_s - old.hold_s) < 1.0
        )
        if same_hold and abs(speed - old.speed) <= 0.02 * old.speed:
            return
        wall = time.time()
        self.segment = ClockSegment(old.at(wall), wall, speed, hold_s)
        self.segment.write(self.path)

    def freeze(self) -> None:
        """Stop simulated time where it is (the run is ending)."""
        self.steer(speed=self.segment.speed, hold_s=self.now_s())
