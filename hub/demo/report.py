"""What the demo prints: the banner, a progress line, and the closing summary."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.db.base import as_utc
from hub.db.session import make_engine, session_scope
from hub.demo.clock import BEFORE_TRIP_S, PacedClock, Pacer, day_of
from hub.demo.stations import EdgeFleet, Timeline
from hub.serving.models import AlertEpisode, CompressorStatus, StationFreshness, StationLink

#: A physics health score from here up reads "normal", below it "degraded".
SCORE_CALLOUT = 90


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


def not_reported_in(
    engine: Any, org_id: str, stations: Sequence[str], *, since: datetime
) -> list[str]:
    """The stations whose agent has not told the hub it is online since `since` (the
    station-events worker stored no such status): a resumed run's stations still carry the
    offline status the last run's planned stop left until they do."""
    with session_scope(engine, org_id=org_id) as session:
        links = {
            link.station_id: link
            for link in session.scalars(select(StationLink).where(StationLink.org_id == org_id))
        }
    return [
        station
        for station in stations
        if (link := links.get(station)) is None
        or not link.online
        or as_utc(link.received_at) < since
    ]


class Report:
    def __init__(
        self,
        data_dir: Path,
        hub: Any,
        timeline: Timeline,
        edges: EdgeFleet,
        portal: Any,
        clock: PacedClock,
        pacer: Pacer,
    ) -> None:
        self.data_dir = data_dir
        self.hub = hub
        self.timeline = timeline
        self.edges = edges
        self.portal = portal
        self.clock = clock
        self.pacer = pacer
        self.engine = make_engine(hub.database_url)
        self.bronze_before = 0
        #: What the stations wait for when the clock holds (the outage drill may hold it).
        self.held_by = "the lake"

    # -- start -------------------------------------------------------------

    def banner(self, duration: float | None) -> None:
        t, pacer = self.timeline, self.pacer
        print(f"Altaviz demo — data under {self.data_dir.resolve()}")
        story = (
            f"the story ends on day {day_of(t.story_end_s, t.start_s):g}"
            if pacer.story_end_s is not None
            else "past the story's end: time runs on"
        )
        print(
            f"  scenario   {t.scenario} from {t.start} (day 0), now day "
            f"{day_of(t.resume_s, t.start_s):.1f}; {story}"
        )
        print(
            f"  time       x{pacer.speed:.0f} (a simulated day every {86_400 / pacer.speed:.0f}s), "
            f"one reading per unit every {t.interval_s}s; the stations wait for the lake when "
            f"more than one lake cycle ({pacer.cycle_s:.0f}s until measured) or 1/"
            f"{pacer.min_steps} of the story ({pacer.lead_s / 3600:.1f} simulated h now) past "
            f"the data it took last, and {BEFORE_TRIP_S / 3600:.0f} h before each trip until the "
            "lake has taken it"
        )
        stations = ", ".join(s.station_id for s in self.edges.stations)
        print(f"  stations   {len(self.edges.stations)} edge agents (own processes): {stations}")
        print("  broker     embedded MQTT (amqtt) on 127.0.0.1 (its log: logs/broker.log)")
        print(f"  lake       {self.hub.lake_root}")
        print(f"  serving    {self.hub.database_url}")
        print(
            f"  portal     {self.portal.url}  sign in as {self.portal.email} / {self.portal.password}"
            "  (ages are in the data's simulated time)"
        )
        print(f"  logs       {self.data_dir.resolve() / 'logs'}")
        stop_hint = f"stops after {duration:g}s" if duration else "Ctrl-C stops"
        print(f"  ({stop_hint}; a second run continues the same story without duplicating rows)")
        sys.stdout.flush()

    def lake_before(self, spark: Any) -> None:
        self.bronze_before = self._bronze_rows(spark)

    # -- while running -----------------------------------------------------

    def lake_s(self) -> float:
        """Simulated time the lake has served for every station (Unix s)."""
        with session_scope(self.engine) as session:
            rows = session.execute(
                select(StationFreshness.station_id, StationFreshness.last_reading_at).where(
                    StationFreshness.org_id == self.portal.org_id
                )
            ).all()
        served = {station: as_utc(at).timestamp() for station, at in rows}
        resume = self.timeline.resume_s
        return min(served.get(s.station_id, resume) for s in self.edges.stations)

    def stations_s(self) -> float:
        """Simulated time every running station has read to (the panels' clocks), else the
        clock. An agent the outage drill stopped reads nothing, so it is left out."""
        newest = []
        for station in self.edges.stations:
            if station.paused:
                continue
            seen = station.newest_reading_s()
            if seen is None:
                return self.clock.now_s()
            newest.append(seen)
        return min(newest) if newest else self.clock.now_s()

    def _day(self, moment: datetime | float | None) -> str:
        if moment is None:
            return "-"
        seconds = moment if isinstance(moment, float) else moment.timestamp()
        return f"day {day_of(seconds, self.timeline.start_s):.1f}"

    def _open_episodes(self) -> list[AlertEpisode]:
        with session_scope(self.engine, org_id=self.portal.org_id) as session:
            rows = session.scalars(
                select(AlertEpisode)
                .where(AlertEpisode.status == "open")
                .order_by(AlertEpisode.compressor_id, AlertEpisode.condition)
            ).all()
            session.expunge_all()
            return list(rows)

    def progress(self, elapsed: float, ingest: Any, pipeline: Any) -> None:
        statuses = [s.status() for s in self.edges.stations]
        # A stopped agent's last status file still says what its link was when it stopped.
        running = [s for s, st in zip(statuses, self.edges.stations, strict=True) if not st.paused]
        up = sum(1 for s in running if s.get("link") == "up")
        paused = [st.station_id for st in self.edges.stations if st.paused]
        stopped = f" ({', '.join(paused)} stopped: drill)" if paused else ""
        backlog = sum(int(s.get("backlog_readings") or 0) for s in statuses)
        alarms = sum(int((s.get("alarms") or {}).get("active") or 0) for s in statuses)
        processed = pipeline.readings
        episodes = self._open_episodes()
        names = ", ".join(f"{e.compressor_id} {e.condition} ({e.severity})" for e in episodes[:3])
        held = f", waiting for {self.held_by}" if self.clock.held else ""
        print(
            f"[{elapsed:5.0f}s] stations {self._day(self.stations_s())} "
            f"(x{self.clock.segment.speed:.0f}{held}) | lake served {self._day(self.lake_s())}, "
            f"working to {self._day(self.pacer.taken_s)} "
            f"| edges: {up}/{len(statuses)} linked{stopped}, backlog {backlog}, "
            f"{alarms} alarm(s) active "
            f"| hub: {ingest.service.landed} batch(es) landed | lake: {pipeline.runs} run(s), "
            f"{processed} reading(s) through silver/gold | "
            f"{len(episodes)} open episode(s){': ' + names if names else ''}"
        )
        sys.stdout.flush()

    def story_complete(self, interactive: bool) -> None:
        end = self._day(self.pacer.story_end_s)
        more = "the portal stays up until Ctrl-C" if interactive else "the run ends on time"
        print(f"The lake has served the whole story (to {end}); the stations hold there; {more}.")
        sys.stdout.flush()

    # -- end ---------------------------------------------------------------

    def _bronze_rows(self, spark: Any) -> int:
        from hub.lakehouse.io import Lake
        from hub.lakehouse.tables import BRONZE_READINGS

        lake = Lake(spark, self.hub.lake_root)
        return lake.count(BRONZE_READINGS) if lake.exists(BRONZE_READINGS) else 0

    def summary(self, spark: Any, ingest: Any, events: Any, pipeline: Any) -> None:
        from hub.lakehouse.io import Lake
        from hub.lakehouse.tables import SILVER_READINGS

        after = self._bronze_rows(spark)
        lake = Lake(spark, self.hub.lake_root)
        silver = lake.count(SILVER_READINGS) if lake.exists(SILVER_READINGS) else 0
        print()
        print(
            f"Summary — the stations reached {self._day(self.stations_s())} of "
            f"{self.timeline.scenario} (days count from 0), the lake served "
            f"{self._day(self.lake_s())}"
        )
        for station in self.edges.stations:
            status = station.status()
            alarms = (status.get("alarms") or {}).get("recent") or []
            raised = Counter(f"{a.get('compressor_id')} {a.get('condition')}" for a in alarms)
            print(
                f"  edge {station.station_id:<13} last seq {status.get('last_seq', '-')}, "
                f"{status.get('unacked_batches', '-')} batch(es) awaiting ack (sent next run); "
                f"alarms: {', '.join(sorted(raised)) or 'none'}{poll_stats(status, _framing(station.station_id))}"
            )
        print(
            f"  hub        {events.alarms_raised} edge alarm(s) raised and {events.alarms_cleared} "
            f"cleared received, {events.statuses} station status report(s); "
            f"{self._links_summary()}"
        )
        print(
            f"  ingest     {ingest.service.landed} batch(es) landed this run, "
            f"{ingest.service.duplicates} re-delivery(ies) recognised, "
            f"{ingest.service.rejected} quarantined"
        )
        from hub.lakehouse.tables import LakePaths

        print(
            f"  bronze rows: {after} (+{after - self.bronze_before} this run) "
            f"in {LakePaths(self.hub.lake_root).bronze_readings}"
        )
        print(
            f"  silver rows: {silver} (one per compressor and timestamp); "
            f"{pipeline.readings} reading(s) through silver/gold this run"
        )
        self._episodes_summary()
        print(
            f"  portal at {self.portal.url} (up until this summary); the serving database stays at "
            f"{self.hub.database_url}"
        )
        sys.stdout.flush()

    def _links_summary(self) -> str:
        with session_scope(self.engine, org_id=self.portal.org_id) as session:
            links = session.scalars(select(StationLink)).all()
            offline = sum(1 for link in links if not link.online)
            return f"{len(links)} station(s) known, {offline} reported offline after the stop"

    def _episodes_summary(self) -> None:
        with session_scope(self.engine, org_id=self.portal.org_id) as session:
            episodes = session.scalars(
                select(AlertEpisode).order_by(AlertEpisode.first_seen_at)
            ).all()
            units = session.scalars(
                select(CompressorStatus).order_by(CompressorStatus.compressor_id)
            ).all()
            print(
                f"  alert episodes: {len(episodes)} "
                f"({sum(1 for e in episodes if e.status == 'open')} with the condition present; "
                "in the portal each stays open until someone resolves it)"
            )
            for e in episodes:
                condition = "present" if e.status == "open" else "cleared"
                print(
                    f"    {e.compressor_id} {e.condition:<24} {e.severity:<8} {condition:<8} "
                    f"from {self._day(_aware(e.first_seen_at))}, peak {e.peak_value:.1f}"
                )
            print(f"  compressor health (serving): {health_words(units)}")
            print(
                "    (health score 0-100 at the last reading: 100 = every signal normal, "
                "0 = one at its critical limit)"
            )


def score_word(score: int | None) -> str:
    """What a 0-100 physics health score says (100: every signal at its normal level,
    0: one at its critical limit)."""
    if score is None:
        return "not scored (not running)"
    return "normal" if score >= SCORE_CALLOUT else "degraded"


def health_words(units: Sequence[CompressorStatus]) -> str:
    """Each unit's alert status (from its open equipment episodes) and what its score says.

    The two answer different questions: an alert opens after a condition has lasted and
    closes after it has cleared for a while; the score is the latest minute. A unit
    with no open alert but a low score is named with both, so the words never contradict
    the numbers.
    """
    if not units:
        return "none yet"
    counts = Counter(u.status for u in units)
    words = ", ".join(
        f"{n} {'with none open' if status == 'healthy' else status}"
        for status, n in sorted(counts.items())
    )
    named = [
        f"{u.compressor_id} score {u.health_score if u.health_score is not None else '-'} "
        f"{score_word(u.health_score)} ({'no alert open' if u.status == 'healthy' else u.status})"
        for u in units
        if u.status != "healthy" or score_word(u.health_score) != "normal"
    ]
    rest = len(units) - len(named)
    if rest:
        named.append(f"the other {rest} score {SCORE_CALLOUT} or more: normal")
    return f"by open alerts: {words}; by health score: {'; '.join(named)}"


def _framing(station_id: str) -> str:
    from hub.demo.panels import RTU_STATION

    return "RTU framing over TCP" if station_id == RTU_STATION else "Modbus TCP"


def poll_stats(status: dict[str, Any], framing: str) -> str:
    """A station's Modbus polling as its agent counted it (empty for the simulated source)."""
    panels = [p for p in (status.get("panels") or {}).values() if isinstance(p, dict)]
    if not panels:
        return ""
    requests = sum(int(p.get("requests") or 0) for p in panels)
    errors = sum(int(p.get("errors") or 0) for p in panels)
    timeouts = sum(int(p.get("timeouts") or 0) for p in panels)
    latencies = [float(p["latency_p95_ms"]) for p in panels if p.get("latency_p95_ms")]
    p95 = f"{max(latencies):.1f} ms" if latencies else "-"
    return (
        f"\n             {framing}: {requests} request(s), {errors} error(s), "
        f"{timeouts} timeout(s), latency p95 {p95} (worst unit)"
    )
