"""Station events at the hub: edge status and alarms into the serving database."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select

from hub.db.migrate import upgrade
from hub.db.models import Compressor, Organization, Station
from hub.db.session import make_engine, session_scope
from hub.ingest.events import StationEvents, StationEventsWorker
from hub.serving.models import EdgeAlarm, StationLink
from shared.messages import Alarm, AlarmEvent, AlarmSeverity, StationStatus, encode_message
from tests.support.services import Mosquitto
from tests.support.stack import hub_settings

REPO = Path(__file__).resolve().parents[2]
STATUS = "altaviz/v1/org-a/STATION-1/status"
ALARMS = "altaviz/v1/org-a/STATION-1/alarms"
COMPRESSORS = ("STATION-1-C01", "STATION-1-C02", "STATION-1-C03")


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    for org in ("org-a", "org-b"):
        with session_scope(engine, org_id=org) as session:
            session.add(Organization(id=org, name=org))
            session.flush()
            session.add(Station(org_id=org, id="STATION-1", name="Station 1"))
            session.flush()
            for compressor in COMPRESSORS:
                session.add(Compressor(org_id=org, id=compressor, station_id="STATION-1"))
    return engine


def _links(engine: Engine, org: str = "org-a") -> list[StationLink]:
    with session_scope(engine, org_id=org) as session:
        rows = list(session.scalars(select(StationLink).where(StationLink.org_id == org)))
        session.expunge_all()
        return rows


def _alarms(engine: Engine, org: str = "org-a") -> list[EdgeAlarm]:
    with session_scope(engine, org_id=org) as session:
        rows = list(session.scalars(select(EdgeAlarm).where(EdgeAlarm.org_id == org)))
        session.expunge_all()
        return rows


def _alarm(event: AlarmEvent, **fields: Any) -> bytes:
    values: dict[str, Any] = {
        "episode_id": "STATION-1.STATION-1-C02.high_discharge_temp.1",
        "event": event,
        "org_id": "org-a",
        "station_id": "STATION-1",
        "compressor_id": "STATION-1-C02",
        "condition": "high_discharge_temp",
        "severity": AlarmSeverity.WARNING,
        "raised_at": "2026-11-26T10:00:00+00:00",
        "metric": "discharge_temp_f_mean",
        "value": 262.5,
        "threshold": 260.0,
        **fields,
    }
    return encode_message(Alarm(**values))


def test_an_older_status_never_overwrites_a_newer_one(engine: Engine) -> None:
    events = StationEvents(engine)
    newer = StationStatus(
        online=True, last_seq=900, backlog_readings=0, at="2026-11-26T10:05:00+00:00"
    )
    older = StationStatus(
        online=True, last_seq=100, backlog_readings=50, at="2026-11-26T10:00:00+00:00"
    )
    assert events.handle(STATUS, encode_message(newer))
    assert events.handle(STATUS, encode_message(older))  # a replayed retained message
    (link,) = _links(engine)
    assert link.online and link.last_seq == 900 and link.backlog_readings == 0
    # The last will is stamped when the agent connected, yet it always marks it offline.
    will = StationStatus(online=False, at="2026-11-26T09:00:00+00:00")
    assert events.handle(STATUS, encode_message(will))
    (link,) = _links(engine)
    assert not link.online and link.last_seq == 900  # what it reported last is kept


def test_a_cleared_alarm_stays_cleared_when_its_raise_arrives_again(engine: Engine) -> None:
    events = StationEvents(engine)
    assert events.handle(ALARMS, _alarm(AlarmEvent.RAISED))
    assert [a.event for a in _alarms(engine)] == ["raised"]
    cleared = _alarm(AlarmEvent.CLEARED, cleared_at="2026-11-26T11:00:00+00:00", peak_value=271.0)
    assert events.handle(ALARMS, cleared)
    assert events.handle(ALARMS, _alarm(AlarmEvent.RAISED))  # QoS 1 re-delivery, late
    (alarm,) = _alarms(engine)
    assert alarm.event == "cleared" and alarm.peak_value == 271.0
    assert alarm.cleared_at is not None and alarm.condition == "high_discharge_temp"
    assert (events.counts.alarms_raised, events.counts.alarms_cleared) == (2, 1)


def test_wrong_tenant_malformed_and_unknown_messages_are_refused(engine: Engine) -> None:
    events = StationEvents(engine)
    # org-a's station publishing an alarm that claims to be org-b's.
    assert not events.handle(ALARMS, _alarm(AlarmEvent.RAISED, org_id="org-b"))
    assert not events.handle(ALARMS, b"{not json")
    assert not events.handle(STATUS, b'{"online": "maybe"}')
    assert not events.handle(
        "altaviz/v1/org-a/STATION-9/status", encode_message(StationStatus(online=True))
    )
    assert not events.handle(ALARMS, _alarm(AlarmEvent.RAISED, compressor_id="NOT-THERE"))
    assert not events.handle("altaviz/v1/org-a/STATION-1/telemetry", b"x")
    assert events.counts.refused == 6
    assert _alarms(engine, "org-a") == [] and _alarms(engine, "org-b") == []
    assert _links(engine) == []


def _wait(predicate: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.2)
    raise AssertionError("condition not reached in time")


@pytest.fixture
def agent_env(tmp_path: Path, mosquitto: Mosquitto) -> Iterator[dict[str, str]]:
    yield {
        **os.environ,
        "ALTAVIZ_EDGE_ORG_ID": "org-a",
        "ALTAVIZ_EDGE_STATION_ID": "STATION-1",
        "ALTAVIZ_EDGE_MQTT__PORT": str(mosquitto.port),
        "ALTAVIZ_EDGE_BUFFER__PATH": str(tmp_path / "edge" / "buffer.duckdb"),
        "ALTAVIZ_EDGE_MODEL__DIR": str(tmp_path / "edge" / "models"),
        "ALTAVIZ_EDGE_SOURCE__OPTIONS": json.dumps({"compressor_count": 3, "poll_interval_s": 0.2}),
        "ALTAVIZ_EDGE_UPLINK__STATUS_INTERVAL_S": "0.5",
        "ALTAVIZ_EDGE_HTTP__ENABLED": "false",
    }


def test_a_killed_agent_is_marked_offline_by_its_last_will(
    engine: Engine, mosquitto: Mosquitto, agent_env: dict[str, str], tmp_path: Path
) -> None:
    worker = StationEventsWorker(hub_settings(tmp_path, mosquitto.port), engine)
    worker.start()
    agent = subprocess.Popen(
        [sys.executable, "-m", "edge_agent", "run"], env=agent_env, cwd=REPO,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        # The real agent's retained status reaches the serving database.
        _wait(lambda: any(link.online and (link.last_seq or 0) > 0 for link in _links(engine)))
        agent.send_signal(signal.SIGKILL)  # no clean disconnect: the broker sends the will
        agent.wait(10)
        _wait(lambda: not _links(engine)[0].online)
        (link,) = _links(engine)
        assert link.agent_version and link.station_id == "STATION-1"
    finally:
        if agent.poll() is None:
            agent.kill()
        worker.stop()
