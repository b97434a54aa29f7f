"""What the demo prints: the banner, a progress line, and the closing summary."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from hub.db.base import as_utc
from hub.db.session import make_engine, session_scope
from hub.demo.stations import EdgeFleet, Timeline
from hub.serving.models import AlertEpisode, CompressorStatus, StationFreshness, StationLink


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else as_utc(moment)


class Report:
    def __init__(
        self, data_dir: Path, hub: Any, timeline: Timeline, edges: EdgeFleet, portal: Any
    ) -> None:
        self.data_dir = data_dir
        self.hub = hub
        self.timeline = timeline
        self.edges = edges
        self.portal = portal
        self.engine = make_engine(hub.database_url)
        self.start = datetime.fromisoformat(timeline.start)
        self.bronze_before = 0

    # -- start -------------------------------------------------------------

    def banner(self, duration: float | None) -> None:
        t = self.timeline
        day_s = 86_400 / t.speed
        print(f"Altaviz demo — data under {self.data_dir.resolve()}")
        print(
            f"  scenario   {t.scenario} from {t.start}, time x{t.speed:g} "
            f"(a simulated day every {day_s:.0f}s), one reading per unit every {t.interval_s}s"
        )
        stations = ", ".join(s.station_id for s in self.edges.stations)
        print(f"  stations   {len(self.edges.stations)} edge agents (own processes): {stations}")
        print("  broker     embedded MQTT (amqtt) on 127.0.0.1")
        print(f"  lake       {self.hub.lake_root}")
        print(f"  serving    {self.hub.database_url}")
        print(
            f"  portal     {self.portal.url}  sign in as {self.portal.email} / {self.portal.password}"
        )
        print(f"  logs       {self.data_dir.resolve() / 'logs'}")
        stop_hint = f"stops after {duration:g}s" if duration else "Ctrl-C stops"
        print(f"  ({stop_hint}; a second run continues the same story without duplicating rows)")
        sys.stdout.flush()

    def lake_before(self, spark: Any) -> None:
        self.bronze_before = self._bronze_rows(spark)

    # -- while running -----------------------------------------------------

    def _sim_now(self) -> datetime | None:
        with session_scope(self.engine) as session:
            return _aware(session.scalar(select(func.max(StationFreshness.last_reading_at))))

    def _day(self, moment: datetime | None) -> str:
        if moment is None:
            return "-"
        return f"day {(moment - self.start).total_seconds() / 86_400 + 1:.1f}"

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
        up = sum(1 for s in statuses if s.get("link") == "up")
        backlog = sum(int(s.get("backlog_readings") or 0) for s in statuses)
        alarms = sum(int((s.get("alarms") or {}).get("active") or 0) for s in statuses)
        processed = pipeline.readings
        episodes = self._open_episodes()
        names = ", ".join(f"{e.compressor_id} {e.condition} ({e.severity})" for e in episodes[:3])
        print(
            f"[{elapsed:5.0f}s] lake at {self._day(self._sim_now())} | edges: {up}/{len(statuses)} linked, "
            f"backlog {backlog}, {alarms} alarm(s) active | hub: {ingest.service.landed} batch(es) "
            f"landed | lake: {processed} reading(s) through silver/gold | "
            f"{len(episodes)} open episode(s){': ' + names if names else ''}"
        )
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
            f"Summary — simulated time reached {self._day(self._sim_now())} of {self.timeline.scenario}"
        )
        for station in self.edges.stations:
            status = station.status()
            alarms = (status.get("alarms") or {}).get("recent") or []
            raised = Counter(f"{a.get('compressor_id')} {a.get('condition')}" for a in alarms)
            print(
                f"  edge {station.station_id:<13} last seq {status.get('last_seq', '-')}, "
                f"{status.get('unacked_batches', '-')} batch(es) awaiting ack (sent next run); "
                f"alarms: {', '.join(sorted(raised)) or 'none'}"
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
            f"  portal was at {self.portal.url}; the serving database stays at {self.hub.database_url}"
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
            statuses = Counter(session.scalars(select(CompressorStatus.status)).all())
            print(
                f"  alert episodes: {len(episodes)} "
                f"({sum(1 for e in episodes if e.status == 'open')} open)"
            )
            for e in episodes:
                print(
                    f"    {e.compressor_id} {e.condition:<24} {e.severity:<8} {e.status:<10} "
                    f"from {self._day(_aware(e.first_seen_at))}, peak {e.peak_value:.1f}"
                )
            health = ", ".join(f"{n} {s}" for s, n in sorted(statuses.items())) or "none yet"
            print(f"  compressor health (serving): {health}")
