"""A driven clock walks the escalation ladder, quiet hours, acknowledgement, station
freshness and auto-resolve; every timeline entry lands at its exact data time and the
e-mails reach a real SMTP server."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import select, update

from hub.db.session import session_scope
from hub.portal.audit.models import AuditEvent
from hub.portal.tenancy import Role
from hub.serving.models import AlertEpisode, StationFreshness
from hub.workflows.channels import Transports
from hub.workflows.clock import DrivenClock
from hub.workflows.jobs import build_jobs, workflow_context
from hub.workflows.models import JobRun, Notification, NotificationPreference, WorkflowAlert
from hub.workflows.outbox import Dispatcher
from hub.workflows.scheduler import Scheduler
from hub.workflows.smtp_sink import SmtpSink
from hub.workflows.timeline import timeline
from tests.hub.portal.factories import make_member, make_org
from tests.hub.workflows.conftest import (
    T0,
    WorkflowDb,
    hub_settings,
    minutes,
    seed_episode,
    smtp_settings,
)

pytestmark = pytest.mark.postgres


def _events(db: WorkflowDb, org_id: str, episode_id: str) -> list[tuple[str, datetime, int | None]]:
    with session_scope(db.app, org_id=org_id) as session:
        return [(e.kind, e.at, e.step) for e in timeline(session, org_id, episode_id)]


def test_ladder_quiet_hours_freshness_and_auto_resolve(
    workflow_db: WorkflowDb, smtp_sink: SmtpSink
) -> None:
    db = workflow_db
    org = make_org(db.owner, stations=1, compressors_per_station=3)
    owner = make_member(db.owner, org.org_id, Role.owner, password=None)
    admin = make_member(db.owner, org.org_id, Role.admin, password=None)
    operator = make_member(db.owner, org.org_id, Role.operator, password=None)
    station = org.station_ids[0]
    c1, c2, c3 = org.compressor_ids
    critical = seed_episode(
        db.owner, org.org_id, c1, episode_id="crit-1", severity="critical", opened_at=T0
    )
    warning = seed_episode(
        db.owner, org.org_id, c2, episode_id="warn-1", severity="warning", opened_at=T0
    )
    acked = seed_episode(
        db.owner, org.org_id, c3, episode_id="warn-acked", severity="warning", opened_at=T0
    )
    with session_scope(db.owner, org_id=org.org_id) as session:
        session.add(StationFreshness(org_id=org.org_id, station_id=station, last_reading_at=T0,
                                     last_received_at=T0, compressors_reporting=3,
                                     readings_last_hour=180))  # fmt: skip
        # The admin sleeps 11:00-15:00 UTC: warnings wait, critical alerts come through.
        session.add(NotificationPreference(org_id=org.org_id, user_id=admin.user_id,
                                           channels=["email"], severities=["warning", "critical"],
                                           quiet_start="11:00", quiet_end="15:00",
                                           timezone="UTC"))  # fmt: skip

    clock = DrivenClock(T0)
    context = workflow_context(hub_settings(db.app_url))
    scheduler = Scheduler(db.app, build_jobs(context), clock=clock, interval_s=60, runner="test")
    for minute in range(0, 91):
        clock.set(minutes(minute))
        with session_scope(db.owner, org_id=org.org_id) as session:  # the world changes
            if minute == 30:  # an operator acknowledges one warning in the portal
                session.execute(update(AlertEpisode).where(AlertEpisode.episode_id == acked)
                                .values(acknowledged_at=minutes(30), acknowledged_by=operator.email))  # fmt: skip
            if minute == 40:  # the station's data comes back
                session.execute(update(StationFreshness).values(last_reading_at=minutes(40)))
            if minute == 70:  # the lakehouse closes the critical episode (condition cleared)
                session.execute(update(AlertEpisode).where(AlertEpisode.episode_id == critical)
                                .values(status="closed", closed_at=minutes(70)))  # fmt: skip
            if 40 <= minute <= 70:  # data flows from 40 and stops again after 70
                session.execute(update(StationFreshness).values(last_reading_at=minutes(minute)))
        result = scheduler.run_tick(minute)
        assert (result.failed, result.partial) == ([], []), f"minute {minute}: {result}"

    assert _events(db, org.org_id, critical) == [
        ("escalated", minutes(15), 0), ("escalated", minutes(60), 1), ("auto_resolved", minutes(85), None),
    ]  # fmt: skip
    assert _events(db, org.org_id, warning) == [("escalated", minutes(60), 0)]
    assert _events(db, org.org_id, acked) == []
    with session_scope(db.app, org_id=org.org_id) as session:
        resolved = session.get(AlertEpisode, (org.org_id, critical))
        assert resolved is not None and resolved.resolved_at == minutes(85)
        assert resolved.resolved_by == "workflows"
        assert "clear since 2026-07-01 13:10 UTC (15 min hysteresis)" in (
            resolved.resolution_note or ""
        )
        offline, again = session.scalars(
            select(WorkflowAlert)
            .where(WorkflowAlert.org_id == org.org_id)
            .order_by(WorkflowAlert.opened_at)
        ).all()
        assert (offline.condition, offline.station_id) == ("station_offline", station)
        assert _events(db, org.org_id, offline.episode_id) == [
            ("raised", minutes(11), None), ("cleared", minutes(40), None),
            ("auto_resolved", minutes(55), None),
        ]  # fmt: skip
        # Silent again after 70: a new alert (the resolved one stays resolved).
        assert again.episode_id != offline.episode_id and again.opened_at == minutes(81)
        assert (again.status, again.message) == ("open", "no data for 20 min (SLA 10 min)")
        runs = session.scalars(select(JobRun).where(JobRun.runner == "test")).all()
        assert len(runs) == 91 * 5 and {r.outcome for r in runs} == {"ok"}
        audit = session.scalars(
            select(AuditEvent.action).where(AuditEvent.org_id == org.org_id,
                                            AuditEvent.action.like("workflow.%"))
        ).all()  # fmt: skip
        assert sorted(audit).count("workflow.escalated") == 3
        assert "workflow.auto_resolved" in audit and "workflow.raised" in audit
        queued = session.scalars(select(Notification).order_by(Notification.data_time)).all()
        assert sorted((n.data_time, n.recipient, n.episode_id, n.status) for n in queued) == sorted([
            (minutes(15), admin.email, critical, "pending"),
            (minutes(60), admin.email, warning, "suppressed"),  # the admin's quiet hours
            (minutes(60), owner.email, critical, "pending"),  # critical overrides them
        ])  # fmt: skip

    dispatcher = Dispatcher(db.app, Transports(smtp_settings(smtp_sink), timeout_s=5),
                            context.settings.delivery)  # fmt: skip
    assert dispatcher.run_once() == 2
    mails = sorted(smtp_sink.messages(), key=lambda m: m.recipients)
    assert [m.recipients for m in mails] == sorted([(admin.email,), (owner.email,)])
    for mail in mails:
        assert mail.message["Subject"].startswith("[Altaviz critical] Discharge temp high on " + c1)
        assert (
            f"https://ops.example.com/o/{org.org_id}/alerts/{critical}"
            in mail.message.get_content()
        )
        assert mail.path is not None and mail.path.exists()
    assert (
        "escalated to owner"
        in next(m for m in mails if m.recipients == (owner.email,)).message["Subject"]
    )
    assert dispatcher.run_once() == 0  # nothing sent twice
