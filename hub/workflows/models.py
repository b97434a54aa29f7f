"""Tables of the workflows (migration 0004_workflows).

Every table but the scheduler's run log is tenant-scoped (`org_id` first in the key,
row-level security on PostgreSQL). Times named `*_at` that describe the data (opened,
escalated, resolved by a workflow) are data time from the workflow's clock; delivery
mechanics (next attempt, lease) are wall time.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from hub.db.base import ID_LENGTH, Base, OrgScoped, as_utc, utc_now


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on SQLite too (which hands columns back naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return as_utc(value) if value is not None else None


TS = UtcDateTime()
EPISODE_ID = 64


def new_id() -> str:
    return uuid.uuid4().hex


def _org() -> Mapped[str]:
    return mapped_column(
        String(ID_LENGTH), ForeignKey("organizations.id", ondelete="CASCADE"), primary_key=True
    )


class JobRun(Base):
    """One run of one job for one scheduler tick; (job, tick) is unique: exactly once."""

    __tablename__ = "workflow_job_runs"

    job: Mapped[str] = mapped_column(String(64), primary_key=True)
    tick: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    #: The workflow clock's time at the tick (simulated time in the demo).
    data_time: Mapped[datetime] = mapped_column(TS)
    started_at: Mapped[datetime] = mapped_column(TS)
    finished_at: Mapped[datetime] = mapped_column(TS)
    #: ok | partial (some orgs failed: error names them) | failed (rolled back)
    outcome: Mapped[str] = mapped_column(String(16))
    actions: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    runner: Mapped[str] = mapped_column(String(128))


class OrgWorkflowSettings(OrgScoped, Base):
    """An organisation's own policies; absent = the hub's defaults (settings.defaults)."""

    __tablename__ = "workflow_org_settings"

    org_id: Mapped[str] = _org()
    #: hub.workflows.settings.OrgDefaults as JSON (escalation ladder, windows, switches).
    config: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str | None] = mapped_column(String(320))
    updated_at: Mapped[datetime] = mapped_column(TS, default=utc_now)


class WorkflowAlert(OrgScoped, Base):
    """An alert the workflows raise: station offline, sensor data quality, alert rules.

    Column names match alert_episodes, so escalation and auto-resolve treat both alike.
    """

    __tablename__ = "workflow_alerts"
    __table_args__ = (
        ForeignKeyConstraint(
            ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE"
        ),
        Index("ix_workflow_alerts_org_status", "org_id", "status"),
    )

    org_id: Mapped[str] = mapped_column(String(ID_LENGTH), primary_key=True)
    episode_id: Mapped[str] = mapped_column(String(EPISODE_ID), primary_key=True, default=new_id)
    #: freshness | data_quality | rule
    source: Mapped[str] = mapped_column(String(16))
    #: What the alert is about, e.g. station_offline, sensor_frozen:vibration_mms, rule:<id>
    key: Mapped[str] = mapped_column(String(128))
    station_id: Mapped[str] = mapped_column(String(ID_LENGTH))
    compressor_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    condition: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(16))
    #: open (condition present) | closed (condition gone)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str] = mapped_column(Text, default="")
    rule_id: Mapped[str | None] = mapped_column(String(32))
    rule_version: Mapped[int | None] = mapped_column(Integer)
    value: Mapped[float | None] = mapped_column(Float)
    threshold: Mapped[float | None] = mapped_column(Float)
    opened_at: Mapped[datetime] = mapped_column(TS)
    escalated_at: Mapped[datetime | None] = mapped_column(TS)
    last_seen_at: Mapped[datetime] = mapped_column(TS)
    closed_at: Mapped[datetime | None] = mapped_column(TS)
    acknowledged_at: Mapped[datetime | None] = mapped_column(TS)
    acknowledged_by: Mapped[str | None] = mapped_column(String(320))
    resolved_at: Mapped[datetime | None] = mapped_column(TS)
    resolved_by: Mapped[str | None] = mapped_column(String(320))
    resolution_note: Mapped[str | None] = mapped_column(Text)
    archived_at: Mapped[datetime | None] = mapped_column(TS)


class EpisodeEvent(OrgScoped, Base):
    """An alert's workflow timeline: escalations, notifications, auto-resolve, assign, comment."""

    __tablename__ = "workflow_episode_events"
    __table_args__ = (Index("ix_workflow_episode_events_episode", "org_id", "episode_id", "at"),)

    org_id: Mapped[str] = _org()
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    episode_id: Mapped[str] = mapped_column(String(EPISODE_ID))
    #: escalated | auto_resolved | raised | cleared | cleaned_up | assigned | comment | acknowledged
    kind: Mapped[str] = mapped_column(String(32))
    #: Escalation step index (kind escalated), so a step fires once per alert.
    step: Mapped[int | None] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(TS)
    actor: Mapped[str] = mapped_column(String(320))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Notification(OrgScoped, Base):
    """The outbox: written in the transaction that decided to notify, delivered afterwards.

    `id` is the idempotency key sent with every attempt.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        Index("ix_notifications_org_status_next", "org_id", "status", "next_attempt_at"),
    )

    org_id: Mapped[str] = _org()
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    episode_id: Mapped[str | None] = mapped_column(String(EPISODE_ID))
    #: escalated | raised | resolved | test
    event: Mapped[str] = mapped_column(String(32))
    #: email | webhook | slack | teams | sms
    channel: Mapped[str] = mapped_column(String(16))
    channel_id: Mapped[str | None] = mapped_column(String(32))
    user_id: Mapped[str | None] = mapped_column(String(32))
    #: An e-mail address, a phone number or the webhook's URL.
    recipient: Mapped[str] = mapped_column(String(2000))
    severity: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: The workflow clock's time of the event (simulated time in the demo).
    data_time: Mapped[datetime] = mapped_column(TS)
    created_at: Mapped[datetime] = mapped_column(TS, default=utc_now)
    #: pending | sending | sent | dead | suppressed
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(TS, default=utc_now)
    lease_until: Mapped[datetime | None] = mapped_column(TS)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime | None] = mapped_column(TS)
    archived_at: Mapped[datetime | None] = mapped_column(TS)


class NotificationChannel(OrgScoped, Base):
    """An organisation's contact point: a webhook (generic, Slack, Teams), an SMS provider's
    webhook, or an e-mail address (a team's list) that hears every alert event."""

    __tablename__ = "notification_channels"

    org_id: Mapped[str] = _org()
    id: Mapped[str] = mapped_column(String(32), primary_key=True, default=new_id)
    name: Mapped[str] = mapped_column(String(100))
    #: webhook | slack | teams | sms | email
    kind: Mapped[str] = mapped_column(String(16))
    #: The URL (webhooks, SMS provider) or the e-mail address.
    target: Mapped[str] = mapped_column(String(2000))
    #: HMAC-SHA256 key for the signature header (shown once, on creation).
    secret: Mapped[str] = mapped_column(String(128))
    severities: Mapped[list[str]] = mapped_column(JSON)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(TS, default=utc_now)


class NotificationPreference(OrgScoped, Base):
    """How one member wants to hear about this org's alerts; absent = e-mail, all severities."""

    __tablename__ = "notification_preferences"

    org_id: Mapped[str] = _org()
    user_id: Mapped[str] = mapped_column(
        String(32), ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    #: Any of email, sms.
    channels: Mapped[list[str]] = mapped_column(JSON)
    severities: Mapped[list[str]] = mapped_column(JSON)
    phone: Mapped[str | None] = mapped_column(String(20))
    #: "HH:MM" local times; critical alerts come through regardless.
    quiet_start: Mapped[str | None] = mapped_column(String(5))
    quiet_end: Mapped[str | None] = mapped_column(String(5))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    updated_at: Mapped[datetime] = mapped_column(TS, default=utc_now)


class AlertRule(OrgScoped, Base):
    """One version of a no-code alert rule; saving a change adds a version, never edits one."""

    __tablename__ = "alert_rules"

    org_id: Mapped[str] = _org()
    rule_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    #: sensor (a SENSOR_FIELDS mean per minute) | score (a model score kind)
    source: Mapped[str] = mapped_column(String(16))
    #: The sensor field or the score kind.
    metric: Mapped[str] = mapped_column(String(64))
    comparison: Mapped[str] = mapped_column(String(2))
    value: Mapped[float] = mapped_column(Float)
    for_min: Mapped[int] = mapped_column(Integer)
    severity: Mapped[str] = mapped_column(String(16))
    #: org | station | compressor, with scope_id naming the station or compressor.
    scope: Mapped[str] = mapped_column(String(16))
    scope_id: Mapped[str | None] = mapped_column(String(ID_LENGTH))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str | None] = mapped_column(String(320))
    created_at: Mapped[datetime] = mapped_column(TS, default=utc_now)


TENANT_TABLES = (
    "workflow_org_settings",
    "workflow_alerts",
    "workflow_episode_events",
    "notifications",
    "notification_channels",
    "notification_preferences",
    "alert_rules",
)
