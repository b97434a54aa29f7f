"""How early the hub warned of a failure: a compressor's RUL trajectory and its first warning.

The failure time comes from the scenario (simulator/scenario.py: when the protection trip
shuts the unit down); the warnings from the serving database (the RUL model's hourly
`rul_hours` rows). The hub "warns" from the first hour of the last unbroken stretch of
RUL estimates before the failure: the RUL model gives an estimate only while it sees a
degradation (an alarm episode or a drift), so that stretch is the warning the operations
center had. Times are the data's (simulated) times.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine, select

from hub.db.base import as_utc
from hub.db.session import session_scope
from hub.serving.models import Prediction
from simulator.scenario import Scenario, resolve_instant

#: Two estimates further apart than this start a new stretch.
MAX_GAP = timedelta(hours=3)


@dataclass(frozen=True)
class RulPoint:
    at: datetime
    hours: float | None
    lower: float | None
    upper: float | None


@dataclass(frozen=True)
class EarlyWarning:
    compressor_id: str
    failure_at: datetime
    started_at: datetime
    first_warned_at: datetime | None
    trajectory: list[RulPoint]

    @property
    def lead_h(self) -> float | None:
        if self.first_warned_at is None:
            return None
        return (self.failure_at - self.first_warned_at).total_seconds() / 3600.0

    def line(self) -> str:
        if self.lead_h is None:
            return f"early warning: {self.compressor_id} not warned before failure"
        return (
            f"early warning: {self.compressor_id} first warned {self.lead_h:.1f} h before failure"
        )

    def lines(self, *, every_h: int = 6) -> list[str]:
        """The trajectory every `every_h` hours and at the first warning, then the line."""
        out = [f"RUL of {self.compressor_id} (fails on day {self._day(self.failure_at):.1f}):"]
        shown: datetime | None = None
        for point in self.trajectory:
            if point.at >= self.failure_at:
                break
            first = point.at == self.first_warned_at
            if not first and shown is not None and point.at - shown < timedelta(hours=every_h):
                continue
            shown = point.at
            if point.hours is None:
                text = "no degradation detected"
            else:
                text = f"{point.hours:.0f} h (80 % band {point.lower:.0f}-{point.upper:.0f} h)"
            out.append(f"  day {self._day(point.at):4.1f}  {point.at:%Y-%m-%d %H:%M}  {text}")
        if len(out) == 1:
            out.append("  no RUL estimates yet")
        out.append(self.line())
        return out

    def _day(self, moment: datetime) -> float:
        # The story's first hour starts before its first minute: day 0.0, not "-0.0".
        return max((moment - self.started_at).total_seconds() / 86400.0, 0.0)


def failure_time(scenario: Scenario, compressor_id: str) -> datetime:
    """When the scenario's (first) equipment fault of the compressor trips it."""
    for fault in scenario.equipment_faults:
        if fault.compressor == compressor_id:
            seconds = resolve_instant(fault.failure, scenario.start_s)
            return datetime.fromtimestamp(seconds, UTC)
    raise ValueError(f"scenario {scenario.name!r} has no equipment fault on {compressor_id}")


def first_warning(points: list[RulPoint], failure_at: datetime) -> datetime | None:
    """Start of the last unbroken stretch of estimates before the failure (None: no warning)."""
    start: datetime | None = None
    previous: datetime | None = None
    for point in points:
        if point.at >= failure_at:
            break
        if point.hours is None:
            start = None
        elif start is None or previous is None or point.at - previous > MAX_GAP:
            start = point.at
        if point.hours is not None:
            previous = point.at
    return start


def early_warning(
    engine: Engine, *, org_id: str, compressor_id: str, scenario: Scenario
) -> EarlyWarning:
    """The compressor's RUL trajectory and first warning, read from the serving database."""
    with session_scope(engine, org_id=org_id) as session:
        rows = session.execute(
            select(Prediction.scored_at, Prediction.score, Prediction.lower, Prediction.upper)
            .where(
                Prediction.org_id == org_id,
                Prediction.compressor_id == compressor_id,
                Prediction.score_kind == "rul_hours",
            )
            .order_by(Prediction.scored_at)
        ).all()
    points = [RulPoint(as_utc(at), score, lower, upper) for at, score, lower, upper in rows]
    failure_at = failure_time(scenario, compressor_id)
    return EarlyWarning(
        compressor_id=compressor_id,
        failure_at=failure_at,
        started_at=scenario.start,
        first_warned_at=first_warning(points, failure_at),
        trajectory=points,
    )
