"""On SQLite (the embedded default): data-quality and rule alerts at exact driven times,
and the demo's hook (scheduler + dispatcher threads, SMTP sink, summary)."""

from __future__ import annotations

import functools
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select, text, update

from hub.db.migrate import upgrade
from hub.db.session import make_engine, session_scope
from hub.portal.demo import seed_demo
from hub.serving.models import RecentMinute, StationFreshness, StationLink
from hub.workflows.clock import DrivenClock
from hub.workflows.demo import (
    ONCALL_EMAIL,
    DataClock,
    DemoWorkflows,
    notifications_sent,
    start_demo_workflows,
    summary_lines,
    workflow_alerts,
)
from hub.workflows.jobs import build_jobs, workflow_context
from hub.workflows.models import AlertRule, JobRun, WorkflowAlert
from hub.workflows.scheduler import Job, Scheduler, per_org
from hub.workflows.timeline import timeline
from shared.schema import SENSOR_FIELDS
from tests.hub.workflows.conftest import T0, hub_settings, minutes, seed_episode

ORG = "demo-org"
STATION, UNIT = "EF-KARNES", "COMP-001"


@pytest.fixture
def engine(tmp_path: Path) -> Engine:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    seed_demo(engine)
    return engine


def _minute(at_min: int, **values: float) -> RecentMinute:
    sensors: dict[str, Any] = {}
    for sensor in SENSOR_FIELDS:
        value = values.get(sensor, 100.0 + at_min)  # moving: not frozen
        sensors |= {f"{sensor}_mean": value, f"{sensor}_min": value, f"{sensor}_max": value}
    return RecentMinute(org_id=ORG, compressor_id=UNIT, station_id=STATION,
                        minute_start=minutes(at_min), n_readings=60, n_running=60, **sensors)  # fmt: skip


def _alerts(engine: Engine) -> list[tuple[str, str, str | None]]:
    with session_scope(engine, org_id=ORG) as session:
        rows = session.scalars(
            select(WorkflowAlert).order_by(WorkflowAlert.opened_at, WorkflowAlert.key)
        )
        return [(a.key, a.status, a.resolved_by) for a in rows]


def test_frozen_sensor_and_a_rule_raise_close_and_resolve(engine: Engine) -> None:
    with session_scope(engine, org_id=ORG) as session:
        session.add(AlertRule(org_id=ORG, rule_id="r" * 32, version=1, name="Hot discharge",
                              source="sensor", metric="discharge_temp_f", comparison=">",
                              value=300.0, for_min=5, severity="critical", scope="compressor",
                              scope_id=UNIT, enabled=True))  # fmt: skip
    clock = DrivenClock(T0)
    settings = hub_settings(
        str(engine.url), defaults={"frozen_after_min": 20, "auto_resolve_after_min": 5}
    )
    scheduler = Scheduler(
        engine, build_jobs(workflow_context(settings)), clock=clock, interval_s=60
    )
    for minute in range(0, 40):
        # vibration frozen at 4.2 from minute 0 to 29; discharge temp above 300 from 10 to 31.
        hot = 10 <= minute < 32
        values: dict[str, float] = {"discharge_temp_f": (310.0 if hot else 250.0) + minute % 3}
        if minute < 30:
            values["vibration_mms"] = 4.2
        with session_scope(engine, org_id=ORG) as session:
            session.add(_minute(minute, **values))
            session.merge(StationFreshness(org_id=ORG, station_id=STATION,
                                           last_reading_at=minutes(minute),
                                           last_received_at=minutes(minute),
                                           compressors_reporting=1, readings_last_hour=60))  # fmt: skip
        clock.set(minutes(minute))
        result = scheduler.run_tick(minute)
        assert (result.failed, result.partial) == ([], [])

    with session_scope(engine, org_id=ORG) as session:
        alerts = {a.key: a for a in session.scalars(select(WorkflowAlert))}
        frozen = alerts["sensor:vibration_mms"]
        rule = alerts["rule:" + "r" * 32]
        # Frozen once the 20-minute window holds one value over 16 minutes (80%): minute 15;
        # moving again at 30, resolved 5 minutes later (the org's hysteresis).
        assert frozen.condition == "sensor_frozen:vibration_mms"
        assert [(e.kind, e.at) for e in timeline(session, ORG, frozen.episode_id)] == [
            ("raised", minutes(15)), ("cleared", minutes(30)), ("auto_resolved", minutes(35)),
        ]  # fmt: skip
        # Above 300 in every minute of the last 5 (10..14): raised at 14, critical, so the
        # admins hear of it 15 minutes later; below again at 32, resolved at 37.
        assert (rule.severity, rule.rule_version, rule.threshold) == ("critical", 1, 300.0)
        assert [(e.kind, e.at) for e in timeline(session, ORG, rule.episode_id)] == [
            ("raised", minutes(14)), ("escalated", minutes(29)), ("cleared", minutes(32)),
            ("auto_resolved", minutes(37)),
        ]  # fmt: skip
        assert set(alerts) == {"sensor:vibration_mms", "rule:" + "r" * 32}  # nothing else


def _demo_workflows(engine: Engine, tmp_path: Path, *, link: bool = False) -> DemoWorkflows:
    """The demo's workflows every 0.2 s over a critical alert opened at T0 and a station
    whose data (and, with `link`, its agent's online status) is at T0."""
    seed_episode(engine, ORG, "COMP-003", episode_id="demo-critical", severity="critical",
                 opened_at=T0)  # fmt: skip
    with session_scope(engine, org_id=ORG) as session:
        session.add(StationFreshness(org_id=ORG, station_id=STATION, last_reading_at=T0,
                                     last_received_at=T0, compressors_reporting=3,
                                     readings_last_hour=180))  # fmt: skip
        if link:
            session.add(StationLink(org_id=ORG, station_id=STATION, online=True,
                                    reported_at=T0, received_at=T0))  # fmt: skip
    return start_demo_workflows(hub_settings(str(engine.url)), engine,
                                mail_dir=tmp_path / "mail", org_id=ORG, interval_s=0.2)  # fmt: skip


def _data_at(engine: Engine, at_min: int) -> None:
    """What the lake serves moves the demo's data clock on."""
    with session_scope(engine, org_id=ORG) as session:
        session.execute(update(StationFreshness).values(last_reading_at=minutes(at_min)))


def _mails(mail_dir: Path, count: int, timeout_s: float = 20.0) -> list[Path]:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and len(list(mail_dir.glob("*.eml"))) < count:
        time.sleep(0.1)
    return sorted(mail_dir.glob("*.eml"))


def _whole_tick(engine: Engine, scheduler: Scheduler, timeout_s: float = 20.0) -> None:
    """Until a tick that started after now has run every job that is not paused."""
    now = scheduler.current_tick()
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        with session_scope(engine) as session:
            if session.scalar(select(JobRun).where(JobRun.job == "cleanup", JobRun.tick > now)):
                return
        time.sleep(0.1)
    raise AssertionError("no whole workflow tick ran")


def test_demo_hook_runs_sends_mail_and_summarises(engine: Engine, tmp_path: Path) -> None:
    mail_dir = tmp_path / "mail"
    demo = _demo_workflows(engine, tmp_path)
    try:
        _data_at(engine, 70)  # the data moves on 70 minutes
        _mails(mail_dir, 2)
    finally:
        demo.stop()
    assert DataClock(engine).now() == minutes(70)
    sent = [n for n in notifications_sent(engine) if n.event == "escalated"]
    assert {(n.recipient, n.channel, n.status) for n in sent} == {
        (ONCALL_EMAIL, "email", "sent"),
        ("operator@lonestar.example", "email", "sent"),
    }
    assert all(
        n.alert == "Discharge temp high on COMP-003" and n.data_time == minutes(70) for n in sent
    )
    lines = summary_lines(sent)
    assert any(
        line.startswith("2026-07-01 13:10  email") and ONCALL_EMAIL in line for line in lines
    )
    mails = sorted(mail_dir.glob("*.eml"))
    assert len(mails) == 2 and all(
        b"Discharge temp high on COMP-003" in m.read_bytes() for m in mails
    )


def test_the_demos_planned_stop_raises_no_station_offline(engine: Engine, tmp_path: Path) -> None:
    """The demo ends by stopping every edge agent on purpose, and each reports itself
    offline. That is no outage: after `planned_stop` (the demo's before-stop hook) no
    station-offline alert is raised and no e-mail sent for it, while what was raised before
    is delivered and the lake's last run still escalates a real alert."""
    mail_dir = tmp_path / "mail"
    demo = _demo_workflows(engine, tmp_path, link=True)
    try:
        _data_at(engine, 70)  # COMP-003's ladder: the admin and the owner steps
        assert len(_mails(mail_dir, 2)) == 2
        demo.planned_stop()
        with session_scope(engine, org_id=ORG) as session:  # the agent: "offline", cleanly
            session.execute(update(StationLink).values(online=False, received_at=minutes(70)))
        _whole_tick(engine, demo.runner.scheduler)
        # The lake's last run: another hour of data, with a critical alert in it.
        seed_episode(engine, ORG, "COMP-007", episode_id="late-critical", severity="critical",
                     opened_at=minutes(70))  # fmt: skip
        _data_at(engine, 140)  # an hour past the offline report: its warning ladder's step
        assert len(_mails(mail_dir, 4)) == 4
        _whole_tick(engine, demo.runner.scheduler)
    finally:
        demo.stop()
    assert [a for a in _alerts(engine) if a[0] == "station_offline"] == []
    sent = demo.notifications()
    assert sorted((n.alert, n.recipient, n.event, n.status) for n in sent) == [
        ("Discharge temp high on COMP-003", ONCALL_EMAIL, "escalated", "sent"),
        ("Discharge temp high on COMP-003", "operator@lonestar.example", "escalated", "sent"),
        ("Discharge temp high on COMP-007", ONCALL_EMAIL, "escalated", "sent"),
        ("Discharge temp high on COMP-007", "operator@lonestar.example", "escalated", "sent"),
    ]
    assert not any("Station offline" in line for line in summary_lines(sent))
    mails = sorted(mail_dir.glob("*.eml"))
    assert len(mails) == 4 and not any(b"Station offline" in m.read_bytes() for m in mails)


def test_pause_waits_for_the_tick_under_way_and_names_real_jobs(engine: Engine) -> None:
    """A paused job runs no more once `pause` returns, so it waits for a tick under way
    (a freshness run that began before the stations stopped finishes first); `resume`
    runs it again from the next tick."""
    started, release = threading.Event(), threading.Event()
    runs: list[str] = []

    def slow(session: Any, now: Any) -> int:
        started.set()
        release.wait(10)
        runs.append("slow")
        return 0

    def fast(session: Any, now: Any) -> int:
        runs.append("fast")
        return 0

    scheduler = Scheduler(engine, [Job("slow", slow), Job("fast", fast)], clock=DrivenClock(T0),
                          interval_s=60)  # fmt: skip
    ticking = threading.Thread(target=scheduler.run_tick, args=(1,))
    ticking.start()
    assert started.wait(10)
    pausing = threading.Thread(target=scheduler.pause, args=("fast",))
    pausing.start()
    pausing.join(0.3)
    assert pausing.is_alive()  # the tick under way first
    release.set()
    ticking.join(10)
    pausing.join(10)
    assert runs == ["slow", "fast"] and not pausing.is_alive()
    assert scheduler.run_tick(2).ran == ["slow"]
    with pytest.raises(ValueError, match="no such workflow job: freshnes"):
        scheduler.pause("freshnes")
    scheduler.resume("fast")  # the stations started on purpose are up
    assert scheduler.run_tick(3).ran == ["slow", "fast"]
    scheduler.resume("fast")  # running already: nothing changes
    assert scheduler.run_tick(4).ran == ["slow", "fast"]
    with pytest.raises(ValueError, match="no such workflow job: freshnes"):
        scheduler.resume("freshnes")


def test_cleanup_archive_and_a_model_score_rule(engine: Engine) -> None:
    from hub.serving.models import AlertEpisode, Prediction
    from hub.workflows.models import Notification
    from hub.workflows.outbox import enqueue

    seed_episode(engine, ORG, "COMP-002", episode_id="superseded", severity="warning", opened_at=T0)
    seed_episode(engine, ORG, "COMP-003", episode_id="closed-old", severity="warning", opened_at=T0)
    with session_scope(engine, org_id=ORG) as session:
        session.execute(update(AlertEpisode).where(AlertEpisode.episode_id == "superseded")
                        .values(status="superseded"))  # fmt: skip
        session.execute(update(AlertEpisode).where(AlertEpisode.episode_id == "closed-old")
                        .values(status="closed", closed_at=T0))  # fmt: skip
        old = enqueue(session, org_id=ORG, event="escalated", channel="email", recipient="a@b.example",
                      severity="warning", subject="old", body="old", payload={},
                      data_time=T0 - timedelta(days=100))  # fmt: skip
        old.status = "sent"
        session.add(AlertRule(org_id=ORG, rule_id="s" * 32, version=3, name="Anomalous",
                              source="score", metric="anomaly", comparison=">=", value=0.8,
                              for_min=5, severity="warning", scope="org", scope_id=None,
                              enabled=True))  # fmt: skip
        for minute in range(0, 8):
            session.add(Prediction(org_id=ORG, compressor_id=UNIT, station_id=STATION,
                                   model_id="anomaly-if", score_kind="anomaly",
                                   scored_at=minutes(minute), model_version="1.0.0",
                                   score=0.9 if minute >= 2 else 0.1))  # fmt: skip
    # Auto-resolve off, so the closed episode waits for cleanup (stale after 1 h).
    settings = hub_settings(
        str(engine.url), defaults={"auto_resolve_enabled": False, "stale_after_h": 1}
    )
    scheduler = Scheduler(engine, build_jobs(workflow_context(settings)), clock=DrivenClock(T0),
                          interval_s=60)  # fmt: skip
    for tick, at in enumerate((minutes(6), minutes(59), minutes(60))):
        scheduler.clock.set(at)  # type: ignore[attr-defined]
        result = scheduler.run_tick(tick)
        assert (result.failed, result.partial) == ([], [])
        if tick == 1:
            with session_scope(engine, org_id=ORG) as session:
                closed = session.get(AlertEpisode, (ORG, "closed-old"))
                assert closed is not None and closed.resolved_at is None  # not stale yet

    with session_scope(engine, org_id=ORG) as session:
        superseded = session.get(AlertEpisode, (ORG, "superseded"))
        closed = session.get(AlertEpisode, (ORG, "closed-old"))
        assert superseded is not None and closed is not None
        assert superseded.resolved_by == "workflows" and "superseded" in (
            superseded.resolution_note or ""
        )
        assert closed.resolution_note == "Cleaned up: expired: closed for more than 1 h."
        archived = session.get(Notification, (ORG, old.id))
        assert archived is not None and archived.archived_at == minutes(6)  # kept, archived
        score = session.scalars(select(WorkflowAlert).where(WorkflowAlert.source == "rule")).one()
        # Scores >= 0.8 in every minute of (1, 6]: raised at the first tick, by version 3.
        assert (score.opened_at, score.rule_version, score.severity) == (minutes(6), 3, "warning")
        assert score.condition == "rule:Anomalous"


def test_a_writer_waits_for_a_long_write_instead_of_failing(engine: Engine) -> None:
    """The serving sync writes a micro-batch in one transaction, seconds long on a busy
    machine; a workflow tick writing meanwhile waits for it ("database is locked" was
    the demo's tick failing after 5 s)."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (x INTEGER)"))
    holding = threading.Event()

    def long_write() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO probe VALUES (1)"))
            holding.set()
            time.sleep(6.0)

    writer = threading.Thread(target=long_write)
    writer.start()
    assert holding.wait(10)
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO probe VALUES (2)"))
    writer.join()
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM probe")).scalar_one() == 2


def test_a_job_that_reads_then_writes_survives_a_commit_in_between(engine: Engine) -> None:
    """A workflow job reads (open alerts, policy) and then writes. If another connection
    — the hot path on a landed batch, the serving sync — commits in between, a deferred
    SQLite transaction cannot become a writer: "database is locked" at once, whatever the
    busy timeout (the demo's cleanup job failed so). The scheduler's transaction takes the
    write lock before it reads; the other writer waits for the job instead."""
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (who TEXT)"))
    other_done = threading.Event()

    def other_writer() -> None:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO probe VALUES ('hot path')"))
        other_done.set()

    def work(session: Any, org_id: str, now: Any) -> int:
        if org_id != ORG:
            return 0
        session.execute(text("SELECT count(*) FROM probe")).scalar_one()  # the job reads
        writer = threading.Thread(target=other_writer)
        writer.start()
        writer.join(timeout=2.0)  # before the fix the other write commits here
        session.execute(text("INSERT INTO probe VALUES (:who)"), {"who": org_id})
        return 1

    scheduler = Scheduler(
        engine, [Job("probe", per_org(work))], clock=DrivenClock(T0), interval_s=60
    )
    result = scheduler.run_tick(1)
    assert result.failed == [] and result.partial == [], result
    assert result.ran == ["probe"]
    assert other_done.wait(30), "the other writer never got the lock after the job committed"
    with engine.connect() as connection:
        rows = [r[0] for r in connection.execute(text("SELECT who FROM probe ORDER BY rowid"))]
    assert rows == [ORG, "hot path"]  # the job first, the other writer after it


def test_a_resumed_demo_raises_no_station_offline_before_its_stations_report(
    engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A second run over the same data: every agent reported itself offline when the last
    run stopped them (on purpose), and the demo's workflows start before the stations do.
    That stale status is no outage: until the stations are up and have reported in (the
    `after_stations` hooks) no station-offline alert is raised and the org's e-mail contact
    point hears nothing. Then freshness watches again: an agent that stops mid-run (the
    outage drill) raises its alert and e-mail, clears when it is back and resolves."""
    import hub.workflows.demo as workflows_demo
    from hub.demo.hooks import DemoContext, DemoHooks
    from hub.demo.plugins import _running, register
    from hub.workflows.models import NotificationChannel

    stations = ("EF-KARNES", "PB-MIDLAND")
    mail_dir = tmp_path / "mail"
    with session_scope(engine, org_id=ORG) as session:  # what the last run left behind
        for station in stations:
            session.add(StationFreshness(org_id=ORG, station_id=station, last_reading_at=T0,
                                         last_received_at=T0, compressors_reporting=3,
                                         readings_last_hour=180))  # fmt: skip
            session.add(StationLink(org_id=ORG, station_id=station, online=False,
                                    reported_at=T0, received_at=T0))  # fmt: skip
        session.add(NotificationChannel(org_id=ORG, name="Ops list", kind="email",
                                        target="ops@lonestar.example", secret="s" * 64,
                                        severities=["warning", "critical"]))  # fmt: skip
    monkeypatch.setattr(  # ticks of 0.2 s instead of the demo's 2 s
        workflows_demo, "start_demo_workflows",
        functools.partial(workflows_demo.start_demo_workflows, interval_s=0.2),
    )  # fmt: skip
    hooks = register(DemoHooks())

    def workflows(kind: list[Any]) -> list[Any]:
        return [hook for hook in kind if hook.__name__.startswith("workflows_")]

    context = DemoContext(hub_settings(str(engine.url)), engine, ORG, tmp_path,
                          "prototype-7day", T0.isoformat(), stations, 1883)  # fmt: skip

    def report(station: str, *, online: bool) -> None:  # the agent's status reaches the hub
        now = datetime.now(UTC)
        with session_scope(engine, org_id=ORG) as session:
            session.execute(
                update(StationLink).where(StationLink.station_id == station)
                .values(online=online, reported_at=now, received_at=now)
            )  # fmt: skip

    def offline_alerts() -> list[tuple[str, str, str | None]]:
        return [a for a in _alerts(engine) if a[0] == "station_offline"]

    try:
        DemoHooks().run(workflows(hooks.before_stations), context)
        scheduler = _running["workflows"].runner.scheduler
        _whole_tick(engine, scheduler)  # the panels, the agents still starting
        _whole_tick(engine, scheduler)
        assert offline_alerts() == []
        for station in stations:  # up, and they said so (what run.py waits for)
            report(station, online=True)
        DemoHooks().run(workflows(getattr(hooks, "after_stations", [])), context)
        _whole_tick(engine, scheduler)
        assert offline_alerts() == [] and list(mail_dir.glob("*.eml")) == []

        report("EF-KARNES", online=False)  # the outage drill stops one agent
        _whole_tick(engine, scheduler)
        assert offline_alerts() == [("station_offline", "open", None)]
        assert len(_mails(mail_dir, 1)) == 1
        report("EF-KARNES", online=True)  # back
        _whole_tick(engine, scheduler)
        _data_at(engine, 20)  # clear for longer than the 15 minutes' hysteresis
        _whole_tick(engine, scheduler)
    finally:
        summary = DemoHooks().run(workflows(hooks.summary), context)  # stops the workflows
    assert offline_alerts() == [("station_offline", "closed", "workflows")]
    (drill,) = workflow_alerts(engine, org_id=ORG, station_id="EF-KARNES",
                               condition="station_offline")  # fmt: skip
    assert [kind for kind, _at, _detail in drill.events] == ["raised", "cleared", "auto_resolved"]
    mails = [m.read_bytes() for m in _mails(mail_dir, 2)]
    assert len(mails) == 2 and all(b"Station offline on EF-KARNES" in m for m in mails)
    assert not any(b"PB-MIDLAND" in m for m in mails)
    assert [line for line in summary if "Station offline" in line] == [
        line for line in summary if "Station offline on EF-KARNES" in line
    ] and len(summary) == 3
