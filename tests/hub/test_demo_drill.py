"""The demo's outage drill end to end, small: two stations, real parts, no Spark.

The simulator's panels (their own process) on a paced clock, two real edge agents (their
own processes) polling them over Modbus, the embedded broker, ingest with the hot path,
the station-events worker and the demo's workflows on SQLite. Only the lake is stood in
for: station freshness (the hub's data clock) is served from the hot path every second,
as the gold path would serve it after a Spark run. The drill stops BN-FTWORTH's agent:
it reports offline and the freshness workflow raises station offline, which escalates
while HV-CARTHAGE's data moves the hub's clock on; it starts again on the same buffer:
its sequence numbers continue, nothing it missed is acquired, and the alert clears and
resolves itself.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
from sqlalchemy import Engine, select

from hub.broker import EmbeddedBroker
from hub.db.migrate import upgrade
from hub.db.session import make_engine, session_scope
from hub.demo.clock import PacedClock
from hub.demo.drill import DRILL_STATION, OutageDrill
from hub.demo.panels import DemoPanels
from hub.demo.run import demo_settings
from hub.demo.stations import EdgeFleet, Timeline
from hub.ingest.events import StationEventsWorker
from hub.ingest.hotpath import HotPath
from hub.ingest.models import StationLatest
from hub.ingest.worker import IngestWorker
from hub.portal.demo import seed_demo
from hub.serving.models import StationFreshness, StationLink
from hub.serving.sync import prepare_serving
from hub.workflows.demo import (
    ONCALL_EMAIL,
    DemoWorkflows,
    notifications_sent,
    start_demo_workflows,
    workflow_alerts,
)
from tests.support.services import free_port

SCENARIO_START = "2026-07-06T00:00:00+00:00"
INTERVAL_S = 60
SPEED = 600.0  # ten simulated minutes per second
DOWN_S = 3600.0
OTHER_STATION = "HV-CARTHAGE"  # keeps the hub's data clock moving while BN-FTWORTH is down


@dataclass
class Stack:
    data_dir: Path
    settings: Any
    engine: Engine
    org_id: str
    clock: PacedClock
    edges: EdgeFleet
    workflows: DemoWorkflows


def _wait(what: str, condition: Any, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


class ServedFreshness(threading.Thread):
    """Stands in for the lake: `station_freshness` from the hot path's `station_latest`."""

    def __init__(self, engine: Engine, org_id: str, every_s: float = 1.0) -> None:
        super().__init__(name="served-freshness", daemon=True)
        self.engine, self.org_id, self.every_s = engine, org_id, every_s
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.every_s):
            with session_scope(self.engine, org_id=self.org_id) as session:
                for latest in session.scalars(select(StationLatest)).all():
                    session.merge(
                        StationFreshness(org_id=latest.org_id, station_id=latest.station_id,
                                         last_reading_at=latest.last_reading_at,
                                         last_received_at=latest.received_at,
                                         compressors_reporting=latest.compressors_in_batch,
                                         readings_last_hour=60)
                    )  # fmt: skip

    def stop(self) -> None:
        self.stopping.set()
        self.join()


@pytest.fixture
def stack(tmp_path: Path) -> Iterator[Stack]:
    data_dir = tmp_path / "demo"
    port = free_port()
    settings = demo_settings(data_dir, broker_port=port, interval_s=INTERVAL_S)
    upgrade(settings.database_url)
    org_id = seed_demo(make_engine(settings.database_url))
    engine = prepare_serving(settings).engine
    timeline = Timeline("prototype-7day", SCENARIO_START, INTERVAL_S)
    # Day 1.4 of the story, BN-FTWORTH's quiet hours.
    clock = PacedClock(
        data_dir / "clock.json", start_s=timeline.start_s + 1.4 * 86_400, speed=SPEED, hold_s=None
    )
    broker = EmbeddedBroker(port=port)
    broker.start()
    ingest = IngestWorker(settings, clock=clock.now, hotpath=HotPath(engine))
    ingest.start()
    events = StationEventsWorker(settings, engine)
    events.start()
    served = ServedFreshness(engine, org_id)
    served.start()
    workflows = start_demo_workflows(settings, engine, mail_dir=data_dir / "mail", org_id=org_id,
                                     speed=SPEED, interval_s=0.5)  # fmt: skip
    panels = DemoPanels(data_dir, timeline, clock.path)
    panels.start()
    edges = EdgeFleet(
        data_dir, org_id, port, timeline, clock.path, acquisition="modbus",
        poll_interval_s=INTERVAL_S / SPEED / 1.5,
        modbus_options=lambda station, poll_s: panels.source_options(station, poll_interval_s=poll_s),
    )  # fmt: skip
    try:
        yield Stack(data_dir, settings, engine, org_id, clock, edges, workflows)
    finally:
        edges.stop()
        panels.stop()
        workflows.stop()
        served.stop()
        events.stop()
        ingest.stop()
        broker.stop()


def _flowing(engine: Engine, org_id: str) -> bool:
    """Both stations online at the hub, their data served."""
    with session_scope(engine, org_id=org_id) as session:
        online = session.scalars(select(StationLink.station_id).where(StationLink.online)).all()
        served = session.scalars(select(StationFreshness.station_id)).all()
    return {DRILL_STATION, OTHER_STATION} <= set(online) & set(served)


def _landed(stack: Stack) -> tuple[list[int], list[float]]:
    """Every landed reading of the station: sequence numbers and timestamps (Unix s)."""
    root = stack.settings.landing_dir / f"org={stack.org_id}" / f"station={DRILL_STATION}"
    seqs: list[int] = []
    stamps: list[float] = []
    for path in sorted(root.rglob("*.parquet")):
        table = pq.read_table(path, columns=["seq", "timestamp"])
        seqs += table.column("seq").to_pylist()
        stamps += [t.timestamp() for t in table.column("timestamp").to_pylist()]
    return sorted(seqs), sorted(stamps)


@pytest.mark.slow
def test_drill_stops_the_agent_raises_station_offline_restarts_and_resolves(
    stack: Stack,
) -> None:
    station, other = stack.edges.station(DRILL_STATION), stack.edges.station(OTHER_STATION)
    assert station is not None and other is not None
    stack.edges.start_station(station)
    stack.edges.start_station(other)
    _wait("the agent's data and online status at the hub", lambda: _flowing(stack.engine,
                                                                           stack.org_id))  # fmt: skip
    start_s = Timeline("prototype-7day", SCENARIO_START, INTERVAL_S).start_s
    drill = OutageDrill(stack.edges, stack.engine, stack.org_id, station, start_s,
                        at_s=stack.clock.now_s() + 600, for_s=DOWN_S)  # fmt: skip
    lines: list[str] = []

    def resolved() -> bool:
        lines.extend(drill.step(stack.clock.now_s()))
        # As the demo's loop does: the stations wait at the restart point until it is done.
        stack.clock.steer(speed=SPEED, hold_s=drill.hold_s())
        alerts = workflow_alerts(stack.engine, org_id=stack.org_id, station_id=DRILL_STATION,
                                 condition="station_offline")  # fmt: skip
        return drill.phase == "back" and any(a.resolved_at for a in alerts)

    _wait("the drill's station-offline alert to resolve", resolved, timeout_s=180)
    assert station.exited is None  # running again

    said = "\n".join(lines)
    assert f"[drill] stopping station {DRILL_STATION}'s edge agent for 1.0 simulated hours" in said
    assert f"[drill] {DRILL_STATION}'s agent stopped (exit code 0)" in said
    assert f"[drill] starting {DRILL_STATION}'s agent again" in said
    assert f"[drill] the hub raised station offline on {DRILL_STATION}" in said
    assert f"[drill] {DRILL_STATION}'s agent restarted" in said
    assert f"[drill] the hub resolved station offline on {DRILL_STATION}" in said

    # One alert, raised while the agent was down (it said it was offline), escalated while
    # nobody acknowledged it, cleared once the agent was back, resolved after the hysteresis.
    (alert,) = workflow_alerts(stack.engine, org_id=stack.org_id, station_id=DRILL_STATION,
                               condition="station_offline")  # fmt: skip
    assert drill.alert is not None and alert.episode_id == drill.alert.episode_id
    assert [kind for kind, _at, _detail in alert.events] == [
        "raised", "escalated", "cleared", "auto_resolved",
    ], (said, alert.events)  # fmt: skip
    raised, escalated, cleared, resolved_ = alert.events
    assert "its edge agent reports offline" in raised[2]["message"]
    assert escalated[2]["notify"] == "admins"
    assert (cleared[1] - raised[1]).total_seconds() >= DOWN_S  # in the hub's time too
    assert (resolved_[1] - cleared[1]).total_seconds() >= 15 * 60
    sent = [n for n in notifications_sent(stack.engine) if n.episode_id == alert.episode_id]
    assert [(n.event, n.recipient) for n in sent] == [("escalated", ONCALL_EMAIL)]
    assert drill.last_read_s is not None and drill.back_s is not None

    # The same buffer: sequence numbers continue without a hole or a repeat, while the
    # readings of the hour it was down were never acquired; the clock held for it, so the
    # gap is that hour (and the few readings the hold adds), not however far time ran.
    stack.edges.stop()
    seqs, stamps = _landed(stack)
    assert seqs == list(range(1, len(seqs) + 1))
    before = max(s for s in stamps if s <= drill.last_read_s)
    after = min(s for s in stamps if s > drill.last_read_s)
    assert DOWN_S - INTERVAL_S <= after - before <= DOWN_S + 45 * 60, (before, after)

    summary = "\n".join(drill.summary_lines(notifications_sent(stack.engine), (before, after)))
    assert f"Outage drill: {DRILL_STATION}'s edge agent" in summary
    assert "started again" in summary and "never acquired" in summary
    assert f"Station offline on {DRILL_STATION}, in the hub's data time" in summary
    assert "resolved" in summary and "not resolved" not in summary
    assert f"email {ONCALL_EMAIL} (escalated, sent)" in summary
