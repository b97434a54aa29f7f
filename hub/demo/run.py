"""The demo's processes and threads, started in order and stopped in reverse order."""

from __future__ import annotations

import argparse
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from hub.demo.clock import BEFORE_TRIP_S, PacedClock, Pacer
from hub.demo.drill import OutageDrill, silver_gap
from hub.demo.hooks import DemoContext, default_hooks
from hub.demo.panels import DemoPanels
from hub.demo.report import Report, not_reported_in
from hub.demo.stations import EdgeFleet, Timeline
from hub.demo.story import story_start
from hub.demo.warmup import warm_up
from shared.mqtt import MqttSettings

#: Simulated seconds per second when neither --speed nor --duration says otherwise.
DEFAULT_SPEED = 1800.0
PROGRESS_EVERY_S = 15.0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def demo_settings(data_dir: Path, *, broker_port: int, interval_s: int) -> Any:
    """The hub's settings in the demo: everything under `data_dir`/hub, the embedded broker."""
    from hub.settings import HubSettings

    hub_dir = data_dir / "hub"
    return HubSettings.load(
        None,
        development=True,  # asked for: plain-http cookies on 127.0.0.1, generated keys
        data_dir=hub_dir,
        lake_root=str((hub_dir / "lake").resolve()),
        database_url=f"sqlite:///{(hub_dir / 'serving.db').resolve()}",
        # amqtt speaks MQTT 3.1.1 and has no shared subscriptions.
        mqtt=MqttSettings(port=broker_port, protocol="3.1.1"),
        ingest={"shared_group": None},
        quality={"expected_interval_s": float(interval_s)},
        # Ages and staleness against the data's (simulated) clock, not the wall clock.
        portal={"clock": "data"},
    )


class PipelineLoop(threading.Thread):
    """`altaviz-hub pipeline` in a loop: bronze, silver, gold and the serving database.

    Each run processes what has landed since the last one (exactly once, through the
    streaming checkpoints), then waits `interval_s`. Stopping waits for a running
    micro-batch instead of interrupting it. `on_cycle` hears each cycle's wall seconds.
    """

    def __init__(
        self,
        spark: Any,
        hub: Any,
        serving: Any,
        *,
        interval_s: float,
        scoring: Any = None,
        on_start: Callable[[], None] = lambda: None,
        on_cycle: Callable[[float], None] = lambda _s: None,
    ) -> None:
        super().__init__(name="lakehouse", daemon=True)
        self.spark, self.hub, self.serving = spark, hub, serving
        self.scoring = scoring  # the registry's champions score each run (hub.scoring)
        self.interval_s = interval_s
        self.on_start = on_start
        self.on_cycle = on_cycle
        self.readings = 0  # through silver and gold, this run of the demo
        self.batches = 0
        self.runs = 0
        self.error: BaseException | None = None
        self._stopping = threading.Event()

    def run(self) -> None:
        last = time.monotonic()
        while not self._stopping.wait(self.interval_s):
            before = self.readings
            try:
                self.on_start()
                self._once()
            except BaseException as exc:  # reported by the main loop
                self.error = exc
                return
            now = time.monotonic()
            if self.readings > before:  # a run with nothing new says nothing of the lake's pace
                self.on_cycle(now - last)
            last = now

    def catch_up(self) -> None:
        """One more run in the caller's thread (after stop: what landed since the last run)."""
        self._once()

    def _once(self) -> None:
        from hub.lakehouse.pipeline import run_once

        result = run_once(self.spark, self.hub, after_commit=self.serving, scoring=self.scoring)
        self.readings += result.readings_processed
        self.batches += result.batches
        self.runs += 1

    def stop(self) -> None:
        self._stopping.set()
        if self.is_alive():
            self.join()


class Demo:
    def __init__(self, args: argparse.Namespace) -> None:
        self.args = args
        self.data_dir: Path = args.data_dir
        self.port = _free_port()
        self.stop = threading.Event()
        self.started = time.monotonic()

    def run(self) -> int:
        from hub.broker import EmbeddedBroker
        from hub.ingest.events import StationEventsWorker
        from hub.ingest.hotpath import HotPath
        from hub.ingest.worker import IngestWorker
        from hub.lakehouse.spark import build_spark
        from hub.portal.demo import start_demo_portal
        from hub.scoring.stage import scoring_stage
        from hub.serving.sync import prepare_serving

        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        signal.signal(signal.SIGTERM, lambda *_: self.stop.set())
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self._broker_log()
        hub = demo_settings(self.data_dir, broker_port=self.port, interval_s=self.args.interval)
        timeline_path = self.data_dir / "demo.json"
        timeline = Timeline.load_or_create(
            timeline_path,
            scenario=self.args.scenario,
            start=story_start(datetime.now(UTC)).isoformat(),
            interval_s=self.args.interval,
        )
        pacer = Pacer.for_run(
            now_s=timeline.resume_s,
            story_end_s=timeline.story_end_s,
            duration_s=self.args.duration,
            speed=self.args.speed,
            default_speed=DEFAULT_SPEED,
            story_s=timeline.story_end_s - timeline.start_s,
            step_ends=tuple(trip - BEFORE_TRIP_S for trip in timeline.trips_s),
        )
        # Held until the panels and agents are up (a panel starts at the clock's instant).
        clock = PacedClock(
            self.data_dir / "clock.json",
            start_s=timeline.resume_s,
            speed=pacer.speed,
            hold_s=timeline.resume_s,
        )
        portal = start_demo_portal(hub, port=self.args.portal_port)
        panels = DemoPanels(self.data_dir, timeline, clock.path)
        edges = EdgeFleet(
            self.data_dir,
            portal.org_id,
            self.port,
            timeline,
            clock.path,
            acquisition=self.args.acquisition,
            # One poll of each unit per simulated interval at the planned speed (and some).
            poll_interval_s=min(max(timeline.interval_s / pacer.speed / 1.5, 0.01), 1.0),
            modbus_options=lambda station, poll_s: panels.source_options(
                station, poll_interval_s=poll_s
            ),
        )
        report = Report(self.data_dir, hub, timeline, edges, portal, clock, pacer)
        report.banner(self.args.duration)
        drill, drill_plan = OutageDrill.plan(
            edges, report.engine, portal.org_id, timeline, acquisition=self.args.acquisition
        )
        print(f"  drill      {drill_plan}")

        serving = prepare_serving(hub)
        broker = EmbeddedBroker(port=self.port)
        broker.start()
        # The hot path puts each landed batch's newest values in serving within seconds.
        ingest = IngestWorker(hub, clock=clock.now, hotpath=HotPath(serving.engine))
        ingest.start()
        events = StationEventsWorker(hub, serving.engine)
        events.start()
        context = DemoContext(
            hub, serving.engine, portal.org_id, self.data_dir, timeline.scenario,
            timeline.start, tuple(s.station_id for s in edges.stations), self.port,
            edges.extra_env, speed=pacer.speed,
        )  # fmt: skip
        hooks = default_hooks()
        for line in hooks.run(hooks.before_stations, context):
            print(line)
        starting = datetime.now(UTC)
        if self.args.acquisition == "modbus":
            panels.start()
        edges.start()
        self._wait_for_stations(edges)
        self._wait_for_reports(edges, report, portal.org_id, since=starting)
        # The planned start is over: what watches the stations may judge them from now on.
        for line in hooks.run(hooks.after_stations, context):
            print(line)
        # Until the lake's first run starts, the stations go at most one step ahead.
        clock.steer(speed=pacer.speed, hold_s=pacer.hold_s())
        spark = build_spark(hub.spark, app_name="altaviz-demo")
        # PySpark's context takes SIGINT for itself (it cancels every job and raises
        # KeyboardInterrupt): Ctrl-C must stop the demo in order and print its summary.
        signal.signal(signal.SIGINT, lambda *_: self.stop.set())
        print("Warming Spark up: one micro-batch of an hour of fleet data on a throwaway lake ...")
        sys.stdout.flush()
        print(f"Spark warmed up in {warm_up(spark, hub):.0f}s (the demo's lake is untouched).")
        report.lake_before(spark)
        # The story's clock starts now: DURATION is the story's time, not the set-up's.
        self.started = time.monotonic()
        if self.args.duration:
            pacer.deadline = self.started + self.args.duration
        pipeline = PipelineLoop(
            spark,
            hub,
            serving,
            scoring=scoring_stage(hub, serving.engine),
            interval_s=self.args.pipeline_interval,
            on_start=lambda: pacer.lake_run_started(clock.now_s()),
            on_cycle=pacer.lake_cycle,
        )
        pipeline.start()
        print(
            f"Spark ready; the lakehouse runs again {self.args.pipeline_interval:g}s after each run."
        )
        sys.stdout.flush()
        try:
            self._loop(report, pipeline, ingest, edges, clock, pacer, panels, drill)
        finally:
            clock.freeze()
            # A planned stop, not an outage: what watches the stations is told first.
            for line in hooks.run(hooks.before_stop, context):
                print(line)
            edges.stop()
            panels.stop()
            time.sleep(1.0)  # the last acks on their way
            time.sleep(1.0)  # the agents' last (offline) statuses
            events.stop()
            ingest.stop()
            broker.stop()
            pipeline.stop()  # lets a running micro-batch finish
            # Where every station really got to (a slow poller may trail the clock).
            timeline.save(timeline_path, stopped_s=min(clock.now_s(), report.stations_s()))
        try:
            print(
                "Stations stopped; the lakehouse serves what they sent last (the portal stays up)."
            )
            sys.stdout.flush()
            pipeline.catch_up()
            report.summary(spark, ingest, events.events.counts, pipeline)
            if drill is not None:
                self._drill_summary(drill, spark, hub, serving.engine)
            for line in hooks.run(hooks.summary, context):
                print(line)
            sys.stdout.flush()
        finally:
            portal.stop()
            spark.stop()
        return 0

    @staticmethod
    def _drill_summary(drill: OutageDrill, spark: Any, hub: Any, engine: Any) -> None:
        """The drill's part of the summary; like a hook's, a failure is one line."""
        from hub.workflows.demo import notifications_sent

        try:
            gap = None
            if drill.last_read_s is not None:
                gap = silver_gap(spark, hub.lake_root, drill.station.station_id, drill.last_read_s)
            lines = drill.summary_lines(notifications_sent(engine), gap)
        except Exception as exc:  # the rest of the summary still comes
            logging.getLogger(__name__).warning("outage drill summary failed", exc_info=True)
            lines = [f"  (outage drill summary failed: {type(exc).__name__}: {exc})"]
        for line in lines:
            print(line)

    def _wait_for_stations(self, edges: EdgeFleet, timeout_s: float = 60.0) -> None:
        """Until every agent has read its panel once (so no simulated minute passes unread)."""
        if self.args.acquisition != "modbus":
            return
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and not self.stop.is_set():
            if edges.failed() is not None:
                return  # the main loop reports it
            panels = [s.status().get("panels") or {} for s in edges.stations]
            if all(p and all(u.get("last_ok_at") for u in p.values()) for p in panels):
                return
            time.sleep(0.2)

    def _wait_for_reports(
        self, edges: EdgeFleet, report: Report, org_id: str, *, since: datetime,
        timeout_s: float = 60.0,
    ) -> None:  # fmt: skip
        """Until the hub has heard every agent say it is online (its status stored since
        `since`): on a resumed run the stations still carry the offline status the last
        run's planned stop left, and the after-stations hooks must not judge them by it."""
        deadline = time.monotonic() + timeout_s
        stations = [s.station_id for s in edges.stations]
        while not self.stop.is_set() and edges.failed() is None:  # else the main loop reports
            missing = not_reported_in(report.engine, org_id, stations, since=since)
            if not missing:
                return
            if time.monotonic() >= deadline:
                print(f"  not reported in to the hub after {timeout_s:g} s: {', '.join(missing)}")
                return
            time.sleep(0.2)

    def _broker_log(self) -> None:
        """The embedded broker's warnings (QoS 1 redeliveries on a busy machine) go to
        logs/broker.log, not between the progress lines."""
        logs = self.data_dir / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        handler = logging.FileHandler(logs / "broker.log")
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(name)s: %(message)s"))
        broker = logging.getLogger("amqtt")
        broker.handlers[:] = [handler]
        broker.propagate = False

    def _loop(
        self,
        report: Report,
        pipeline: Any,
        ingest: Any,
        edges: EdgeFleet,
        clock: PacedClock,
        pacer: Pacer,
        panels: DemoPanels,
        drill: OutageDrill | None,
    ) -> None:
        deadline = self.started + self.args.duration if self.args.duration else None
        next_progress = time.monotonic() + PROGRESS_EVERY_S
        told_complete = False
        while not self.stop.is_set():
            if deadline is not None and time.monotonic() >= deadline:
                break
            failed = edges.failed()
            if failed is not None:
                print(
                    f"edge agent {failed.station_id} exited with code {failed.exited}; "
                    f"see {failed.log_path}"
                )
                break
            if panels.exited is not None:
                print(f"the panels exited with code {panels.exited}; see {panels.log_path}")
                break
            if pipeline.error is not None:
                raise pipeline.error
            if drill is not None:
                for line in drill.step(clock.now_s()):
                    print(line)
                sys.stdout.flush()
            lake_s = report.lake_s()
            speed = pacer.speed_at(clock.now_s())
            hold_s, report.held_by = pacer.hold_s(), "the lake"
            drill_hold_s = drill.hold_s() if drill is not None else None
            if drill_hold_s is not None and drill_hold_s < hold_s:
                hold_s, report.held_by = drill_hold_s, "the drill"
            clock.steer(speed=speed, hold_s=hold_s)
            if time.monotonic() >= next_progress:
                report.progress(time.monotonic() - self.started, ingest, pipeline)
                next_progress = time.monotonic() + PROGRESS_EVERY_S
            end = pacer.story_end_s
            if not told_complete and end is not None and lake_s >= end - 2 * self.args.interval:
                told_complete = True
                report.story_complete(deadline is None)
            self.stop.wait(0.5)
