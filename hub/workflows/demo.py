"""The workflows inside `altaviz demo`: the scheduler and the dispatcher on the demo's
serving database, a local SMTP sink keeping every e-mail under a directory, an on-call
admin so the escalation ladder has someone at each step, and the notifications sent
(for the closing summary).

The demo's workflows run on data time: `DataClock` is the newest reading the serving
database holds, so escalation and freshness follow the simulated story however fast it
runs and however far the lakehouse lags behind the simulator.
"""

from __future__ import annotations

import math
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select

from hub.db.base import as_utc
from hub.db.session import session_scope, set_tenant
from hub.serving.models import StationFreshness
from hub.settings import HubSettings, SmtpSettings
from hub.workflows.clock import Clock
from hub.workflows.context import title_of
from hub.workflows.jobs import WorkflowRunner
from hub.workflows.models import Notification, WorkflowAlert
from hub.workflows.scheduler import org_ids
from hub.workflows.smtp_sink import SmtpSink
from hub.workflows.timeline import find_alert, timeline

ONCALL_EMAIL = "oncall.admin@lonestar.example"
#: Timeline events at one data time in the order an alert lives them (the demo's data
#: clock holds between lake runs, so several ticks can share a time; ids are random).
LIFECYCLE = ("raised", "reopened", "escalated", "acknowledged", "cleared", "auto_resolved")


class DataClock:
    """The newest reading time in the serving database (never goes backwards).

    Reads across organisations, so it is for the embedded SQLite database (the demo);
    a production hub runs on the wall clock (SystemClock).
    """

    def __init__(self, engine: Engine, *, start: datetime | None = None) -> None:
        self.engine = engine
        self._latest = start or datetime(1970, 1, 1, tzinfo=UTC)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        with session_scope(self.engine) as session:
            newest = session.scalar(select(func.max(StationFreshness.last_reading_at)))
        with self._lock:
            if newest is not None and as_utc(newest) > self._latest:
                self._latest = as_utc(newest)
            return self._latest


@dataclass
class SentNotification:
    data_time: datetime
    channel: str
    recipient: str
    alert: str
    event: str
    status: str
    episode_id: str | None = None


@dataclass
class AlertHistory:
    """One alert the workflows raised, with its timeline (data time), for the demo's summary."""

    episode_id: str
    alert: str  # e.g. "Station offline on BN-FTWORTH"
    opened_at: datetime
    resolved_at: datetime | None
    #: (kind, data time, detail) oldest first: raised, escalated, cleared, auto_resolved ...
    events: list[tuple[str, datetime, dict[str, Any]]] = field(default_factory=list)


@dataclass
class DemoWorkflows:
    runner: WorkflowRunner
    sink: SmtpSink
    engine: Engine

    def planned_stop(self) -> None:
        """The stations are about to be stopped on purpose (the demo ends): that is no
        outage, so freshness (station offline, sensor data quality) checks no more. The
        other workflows go on, so the lake's last run still escalates real alerts and the
        dispatcher still sends what is queued."""
        self.runner.scheduler.pause("freshness")

    def stations_up(self) -> None:
        """The stations started on purpose are up and have reported in: freshness checks
        again (from the next tick), so a station that goes quiet or offline from now on
        (the outage drill) raises its alert. Until then a resumed run's stations still
        carry the offline status the last run's planned stop left (see `planned_start`)."""
        self.runner.scheduler.resume("freshness")

    def stop(self) -> None:
        self.runner.stop()
        self.runner.dispatcher.run_once()  # what the last tick queued
        self.sink.stop()

    def notifications(self) -> list[SentNotification]:
        return notifications_sent(self.engine)


def add_oncall_admin(engine: Engine, org_id: str) -> str:
    """An admin without a password (e-mail only), so the ladder's admin step reaches someone."""
    from hub.portal.auth import service as auth
    from hub.portal.orgs.models import Membership
    from hub.portal.tenancy import Role, set_db_scope

    with session_scope(engine, org_id=org_id) as session:
        user = auth.get_user_by_email(session=session, email=ONCALL_EMAIL) or auth.create_user(
            session=session, email=ONCALL_EMAIL, name="On-call admin", password=None
        )
        set_db_scope(session, user_id=user.id, org_id=org_id)
        if session.get(Membership, (org_id, user.id)) is None:
            session.add(Membership(org_id=org_id, user_id=user.id, role=Role.admin.value))
    return ONCALL_EMAIL


def start_demo_workflows(
    settings: HubSettings,
    engine: Engine,
    *,
    mail_dir: Path,
    org_id: str,
    clock: Clock | None = None,
    interval_s: float = 2.0,
    speed: float = 1.0,
    planned_start: bool = False,
) -> DemoWorkflows:
    """Start the SMTP sink (e-mails as .eml files under `mail_dir`) and the workflows.

    `speed` (simulated seconds per real second) stretches the station-silence SLA to at
    least ~20 real seconds of silence, so the lakehouse's own lag (stations land in
    different micro-batches) is not taken for a silent station; a stopped edge agent says
    it is offline and raises its alert at once whatever the SLA.

    `planned_start`: the stations are about to be started on purpose, so the freshness
    job waits (paused) until `stations_up()`. A resumed demo's stations all reported
    offline when the last run stopped them, and the workflows start before the stations:
    checking freshness before they have reported in would raise (and e-mail) a
    station-offline alert for every station, only to clear it moments later.
    """
    sink = SmtpSink(mail_dir).start()
    smtp = SmtpSettings(host=sink.host, port=sink.port, sender="Altaviz <alerts@altaviz.local>")
    add_oncall_admin(engine, org_id)
    defaults = settings.workflows.defaults
    sla_min = max(defaults.freshness_sla_min, math.ceil(speed * 20 / 60))
    workflows = settings.workflows.model_copy(
        update={
            "interval_s": interval_s,
            "defaults": defaults.model_copy(update={"freshness_sla_min": min(sla_min, 1440)}),
        }
    )
    tuned = settings.model_copy(update={"workflows": workflows})
    runner = WorkflowRunner(engine, tuned, clock=clock or DataClock(engine), smtp=smtp)
    if planned_start:
        runner.scheduler.pause("freshness")  # before the first tick
    runner.start()
    return DemoWorkflows(runner, sink, engine)


def notifications_sent(engine: Engine) -> list[SentNotification]:
    """Every notification in the outbox, oldest first (the demo's closing summary)."""
    sent: list[SentNotification] = []
    with session_scope(engine) as session:
        for org_id in org_ids(session):
            set_tenant(session, org_id)
            rows = session.scalars(
                select(Notification)
                .where(Notification.org_id == org_id)
                .order_by(Notification.data_time, Notification.created_at, Notification.id)
            ).all()
            for row in rows:
                alert = find_alert(session, org_id, row.episode_id) if row.episode_id else None
                where = (alert.compressor_id or alert.station_id) if alert is not None else "-"
                label = (
                    f"{title_of(alert.condition)} on {where}" if alert is not None else row.subject
                )
                sent.append(
                    SentNotification(as_utc(row.data_time), row.channel, row.recipient, label,
                                     row.event, row.status, row.episode_id)
                )  # fmt: skip
    return sent


def workflow_alerts(
    engine: Engine, *, org_id: str, station_id: str, condition: str
) -> list[AlertHistory]:
    """The workflows' alerts of one condition on one station, oldest first, with timelines."""
    with session_scope(engine, org_id=org_id) as session:
        rows = session.scalars(
            select(WorkflowAlert)
            .where(WorkflowAlert.org_id == org_id, WorkflowAlert.station_id == station_id,
                   WorkflowAlert.condition == condition)
            .order_by(WorkflowAlert.opened_at, WorkflowAlert.episode_id)
        ).all()  # fmt: skip
        return [
            AlertHistory(
                alert.episode_id,
                f"{title_of(alert.condition)} on {alert.compressor_id or alert.station_id}",
                as_utc(alert.opened_at),
                as_utc(alert.resolved_at) if alert.resolved_at else None,
                sorted(
                    (
                        (event.kind, as_utc(event.at), dict(event.detail or {}))
                        for event in timeline(session, org_id, alert.episode_id)
                    ),
                    key=lambda e: (e[1], _lifecycle_rank(e[0])),
                ),
            )
            for alert in rows
        ]


def _lifecycle_rank(kind: str) -> int:
    return LIFECYCLE.index(kind) if kind in LIFECYCLE else len(LIFECYCLE)


def summary_lines(sent: list[SentNotification]) -> list[str]:
    """One line per notification for the demo's closing summary."""
    if not sent:
        return ["no notifications were sent"]
    return [
        f"{n.data_time:%Y-%m-%d %H:%M}  {n.channel:<7} {n.recipient:<36} {n.alert} ({n.event}, {n.status})"
        for n in sent
    ]
