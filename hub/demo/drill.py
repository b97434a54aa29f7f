"""The outage drill: one station's edge agent stopped for a while, then started again.

When the stations' clock reaches the drill (day 1 of the story) the demo stops
BN-FTWORTH's agent cleanly (SIGTERM: it sends what it buffered, reports itself offline
and exits), and the hub's freshness workflow raises that station's `station_offline`
alert. The same agent starts again on the same buffer (its sequence numbers continue)
once the drill's simulated hours have passed for the stations *and* for the hub: the
hub's workflows run on the data the lake has served (hub.workflows.demo.DataClock),
which trails the stations, so the alert stays open that long in the hub's time too (and
escalates, unacknowledged), while the stations' clock waits at the restart point (the
drill's `hold_s`). Its link then reports online and data lands again: the alert clears
and resolves itself after the hysteresis.

Nobody polls the panel while the agent is down, so what the panel served meanwhile is
never acquired: a gap in that station's data, as when a real gateway is off (a panel
stops holding instants for a gateway that is gone, simulator.panels). BN-FTWORTH carries
none of the story's equipment faults (COMP-003 is at EF-KARNES, COMP-007 at HV-CARTHAGE)
and its next scenario event, COMP-009's dropout, comes on day 2.4.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, func, select

from hub.db.base import as_utc
from hub.db.session import session_scope
from hub.demo.clock import day_of
from hub.demo.panels import LOCKSTEP_WAIT_S
from hub.demo.stations import EdgeFleet, EdgeStation, Timeline
from hub.serving.models import StationFreshness
from hub.workflows.demo import AlertHistory, SentNotification, workflow_alerts

DRILL_STATION = "BN-FTWORTH"
#: Where the drill starts, from the story's day 0, and how long the agent stays down.
DRILL_AT_S = 24 * 3600.0
DRILL_FOR_S = 6 * 3600.0
#: Wall seconds the drill waits for the hub's alert before it restarts the agent anyway
#: (the workflows are not running) and says so; and for the restarted agent to read again
#: before it lets the stations' clock go on without it.
ALERT_WAIT_S = 60.0
CONDITION = "station_offline"


def _hours(seconds: float) -> str:
    return f"{seconds / 3600:.1f}"


@dataclass
class OutageDrill:
    """Stops one agent at `at_s` (simulated Unix s) for `for_s`, advanced by `step`."""

    edges: EdgeFleet
    engine: Engine
    org_id: str
    station: EdgeStation
    start_s: float  # the story's day 0
    at_s: float
    for_s: float
    interval_s: int = 60  # simulated seconds between readings
    #: Wall seconds the agent stays down at least: its panel waits this long for it.
    min_down_wall_s: float = LOCKSTEP_WAIT_S + 1.0
    alert_wait_s: float = ALERT_WAIT_S
    phase: str = "planned"  # planned, stopping, down, starting, back
    exit_code: int | None = None
    last_read_s: float | None = None  # the agent's newest reading when it stopped
    stopped_s: float | None = None  # the stations' clock when it was stopped
    restarted_s: float | None = None  # the stations' clock when it was started again
    back_s: float | None = None  # its first newer reading seen after the restart
    alert: AlertHistory | None = None  # the station-offline alert raised while it was down
    told_resolved: bool = False
    _known_alerts: set[str] = field(default_factory=set)
    _exited_at: float = 0.0  # time.monotonic()
    _restarted_at: float = 0.0

    @classmethod
    def plan(
        cls,
        edges: EdgeFleet,
        engine: Engine,
        org_id: str,
        timeline: Timeline,
        *,
        acquisition: str,
    ) -> tuple[OutageDrill | None, str]:
        """The drill of this run, or None; and the banner's line about it."""
        station = edges.station(DRILL_STATION)
        at_s = timeline.start_s + DRILL_AT_S
        when = f"day {day_of(at_s, timeline.start_s):g}"
        if station is None:
            return None, f"no outage drill ({DRILL_STATION} is not in this fleet)"
        if acquisition != "modbus":
            return None, (
                "no outage drill with --acquisition simulated (an in-process simulation "
                "would replay the hours its agent missed)"
            )
        if timeline.resume_s >= at_s:
            return None, f"no outage drill this run (it comes on {when}; this run starts later)"
        if at_s + DRILL_FOR_S >= timeline.story_end_s:
            return None, f"no outage drill (the story ends before {when} + {_hours(DRILL_FOR_S)} h)"
        drill = cls(
            edges, engine, org_id, station, timeline.start_s, at_s, DRILL_FOR_S,
            timeline.interval_s,
        )  # fmt: skip
        return drill, (
            f"on {when} {DRILL_STATION}'s edge agent stops for {_hours(DRILL_FOR_S)} simulated "
            "hours (outage drill): the hub raises station offline, then resolves it"
        )

    # -- the clocks ---------------------------------------------------------

    @property
    def stop_s(self) -> float:
        """Where the agent stopped: `at_s`, or later when the stations' clock was already past
        it (the drill waits for the lake's first run, so the hub has a clock to alert on)."""
        return self.at_s if self.stopped_s is None else max(self.at_s, self.stopped_s)

    def _day(self, moment_s: float | None) -> str:
        return "-" if moment_s is None else f"day {day_of(moment_s, self.start_s):.2f}"

    def _stamp(self, moment: datetime | float) -> str:
        at = moment if isinstance(moment, datetime) else datetime.fromtimestamp(moment, UTC)
        return f"{at:%Y-%m-%d %H:%M}, {self._day(at.timestamp())}"

    def hub_data_s(self) -> float | None:
        """The hub's data clock (the newest reading the lake has served), None before any."""
        with session_scope(self.engine, org_id=self.org_id) as session:
            newest = session.scalar(
                select(func.max(StationFreshness.last_reading_at)).where(
                    StationFreshness.org_id == self.org_id
                )
            )
        return None if newest is None else as_utc(newest).timestamp()

    def _alerts(self) -> list[AlertHistory]:
        return workflow_alerts(
            self.engine, org_id=self.org_id, station_id=self.station.station_id,
            condition=CONDITION,
        )  # fmt: skip

    def _drill_alert(self) -> AlertHistory | None:
        """The station-offline alert raised since the stop (refreshed), if any."""
        wanted = self.alert.episode_id if self.alert else None
        for alert in self._alerts():
            if alert.episode_id == wanted or (
                wanted is None and alert.episode_id not in self._known_alerts
            ):
                return alert
        return None

    # -- while the demo runs ------------------------------------------------

    def step(self, now_s: float) -> list[str]:
        """Advance the drill to the stations' clock `now_s`; the lines to print."""
        if self.phase == "planned":
            return self._maybe_stop(now_s)
        lines: list[str] = []
        if self.phase == "stopping" and self.station.exited is not None:
            self.exit_code = self.station.exited
            self.last_read_s = self.station.newest_reading_s()
            self._exited_at = time.monotonic()
            self.phase = "down"
            lines.append(
                f"[drill] {self.station.station_id}'s agent stopped (exit code {self.exit_code}), "
                f"its last reading on {self._day(self.last_read_s)}; it reported itself offline"
            )
        if self.alert is None or not self.told_resolved:
            lines += self._follow_alert()
        if self.phase == "down" and self._restart_due(now_s):
            lines += self._restart(now_s)
        if self.phase == "starting":
            newest = self.station.newest_reading_s()
            if newest is not None and self.last_read_s is not None and newest > self.last_read_s:
                self.back_s = newest
                self.phase = "back"
                lines.append(
                    f"[drill] {self.station.station_id}'s agent restarted: reading its panel "
                    f"again on {self._day(newest)}; what it missed while down is not acquired"
                )
        return lines

    def _maybe_stop(self, now_s: float) -> list[str]:
        if now_s < self.at_s:
            return []
        hub_s = self.hub_data_s()
        if hub_s is None:  # nothing served yet: the hub has no clock to raise an alert on
            return []
        self._known_alerts = {a.episode_id for a in self._alerts()}
        self.edges.pause_station(self.station)
        self.stopped_s = now_s
        self.phase = "stopping"
        return [
            f"[drill] stopping station {self.station.station_id}'s edge agent for "
            f"{_hours(self.for_s)} simulated hours at {self._day(now_s)} (outage drill; nobody "
            f"polls its panel meanwhile). The hub's clock is the data the lake has served "
            f"({self._day(hub_s)}): the stations wait for it to see those hours pass too"
        ]

    def _follow_alert(self) -> list[str]:
        """Say when the hub raised and resolved the drill's alert."""
        if self.phase == "planned":
            return []
        seen_before = self.alert is not None
        self.alert = self._drill_alert()
        if self.alert is None:
            return []
        lines = []
        if not seen_before:
            lines.append(
                f"[drill] the hub raised station offline on {self.station.station_id} "
                f"(its data time {self._stamp(self.alert.opened_at)})"
            )
        if self.alert.resolved_at is not None and not self.told_resolved:
            self.told_resolved = True
            lines.append(
                f"[drill] the hub resolved station offline on {self.station.station_id} "
                f"(its data time {self._stamp(self.alert.resolved_at)})"
            )
        return lines

    def hold_s(self) -> float | None:
        """Where the stations' clock waits while the agent is down, or None.

        The restart point: the drill's hours past the stop, or past the alert's opening if
        the hub (whose clock trails the stations) raised it later, plus a few readings so
        the lake can serve that far. Held until the agent reads again, so the station's
        gap is the drill's hours and not however far the stations ran ahead meanwhile.
        """
        if self.phase not in ("stopping", "down", "starting"):
            return None
        if self.phase == "starting" and time.monotonic() - self._restarted_at > self.alert_wait_s:
            return None  # an agent that does not read again must not stop the story
        opened_s = self.alert.opened_at.timestamp() if self.alert else self.stop_s
        return max(self.stop_s, opened_s) + self.for_s + 5 * self.interval_s

    def _restart_due(self, now_s: float) -> bool:
        down_wall = time.monotonic() - self._exited_at
        if now_s < self.stop_s + self.for_s or down_wall < self.min_down_wall_s:
            return False
        if self.alert is None:
            return down_wall >= self.alert_wait_s  # the workflows are not running: go on
        hub_s = self.hub_data_s()
        return hub_s is not None and hub_s >= self.alert.opened_at.timestamp() + self.for_s

    def _restart(self, now_s: float) -> list[str]:
        self.edges.start_station(self.station)
        self.restarted_s = now_s
        self._restarted_at = time.monotonic()
        self.phase = "starting"
        if self.alert is None:
            hub = f"the hub raised no station-offline alert in {self.alert_wait_s:g} s"
        else:
            hub = f"the hub's data has reached {self._day(self.hub_data_s())}"
        return [
            f"[drill] starting {self.station.station_id}'s agent again at {self._day(now_s)}, "
            f"{_hours(now_s - self.stop_s)} simulated hours after the stop ({hub}); same buffer: "
            "its sequence numbers continue"
        ]

    # -- the closing summary ------------------------------------------------

    def summary_lines(
        self, sent: list[SentNotification], gap: tuple[float | None, float | None] | None
    ) -> list[str]:
        """What the drill did; `gap`: the lake's last reading of the station at or before
        the stop and its first after it (None when not looked up)."""
        name = self.station.station_id
        if self.phase == "planned":
            return [f"Outage drill: not reached (it comes on {self._day(self.at_s)})"]
        lines = [f"Outage drill: {name}'s edge agent (none of the story's faults is there)"]
        if self.restarted_s is None:
            lines.append(
                f"  stopped at {self._day(self.stop_s)} (last reading {self._day(self.last_read_s)}); "
                "the run ended before its restart"
            )
        else:
            back = f", reading again on {self._day(self.back_s)}" if self.back_s else ""
            lines.append(
                f"  stopped at {self._day(self.stop_s)} (last reading {self._day(self.last_read_s)}), "
                f"started again {_hours(self.restarted_s - self.stop_s)} simulated h later on the "
                f"same buffer{back}"
            )
        if gap is not None:
            lines.append(f"  {self._gap_words(gap)}")
        return lines + self._alert_lines(sent)

    def _gap_words(self, gap: tuple[float | None, float | None]) -> str:
        before, after = gap
        if before is None or after is None:
            return "the lake holds no reading of it after the stop"
        return (
            f"the lake has no reading of it from {self._stamp(before)}, to {self._stamp(after)} "
            f"({_hours(after - before)} h): nobody polled its panel while the agent was down, "
            "so those readings were never acquired (a gap, not a backlog)"
        )

    def _alert_lines(self, sent: list[SentNotification]) -> list[str]:
        alert = self._drill_alert() if self.alert is not None else None
        if alert is None:
            return ["  no station-offline alert was raised while it was down"]
        steps = ", ".join(self._event_words(kind, at, detail) for kind, at, detail in alert.events)
        mine = [n for n in sent if n.episode_id == alert.episode_id]
        told = "; ".join(
            f"{n.data_time:%Y-%m-%d %H:%M} {n.channel} {n.recipient} ({n.event}, {n.status})"
            for n in mine
        )
        return [
            f"  {alert.alert}, in the hub's data time (the newest reading the lake had "
            "served, which trails the stations):",
            f"    {steps}" + ("" if alert.resolved_at else "; not resolved when the run ended"),
            f"    its notifications (also in the list below): {told or 'none'}",
        ]

    def _event_words(self, kind: str, at: datetime, detail: dict[str, Any]) -> str:
        when = self._stamp(at)
        if kind in ("raised", "cleared", "reopened"):
            return f"{kind} {when} ({detail.get('message', '')})"
        if kind == "escalated":
            return f"escalated {when} (unacknowledged, to {detail.get('notify', '?')})"
        if kind == "auto_resolved":
            return f"resolved {when} (by itself, after the hysteresis)"
        return f"{kind.replace('_', ' ')} {when}"


def silver_gap(
    spark: Any, lake_root: str, station_id: str, around_s: float
) -> tuple[float | None, float | None]:
    """The station's last reading in silver at or before `around_s`, and its first after."""
    from pyspark.sql import functions as F

    from hub.lakehouse.io import Lake
    from hub.lakehouse.tables import SILVER_READINGS

    lake = Lake(spark, lake_root)
    if not lake.exists(SILVER_READINGS):
        return None, None
    seconds = F.col("timestamp").cast("double")
    row = (
        lake.read(SILVER_READINGS)
        .where(F.col("station_id") == station_id)
        .agg(
            F.max(F.when(seconds <= around_s, seconds)).alias("before"),
            F.min(F.when(seconds > around_s, seconds)).alias("after"),
        )
        .first()
    )
    return (row["before"], row["after"]) if row is not None else (None, None)
