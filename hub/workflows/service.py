"""What admins and members change: the org's policy, alert rules (versioned), contact
points, their own preferences; and what they read: the delivery log, job runs, timelines.

Services take keyword-only arguments, session first, and only flush; the request owns
the transaction. Every change is written to the audit log.
"""

from __future__ import annotations

import secrets
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.models import Compressor, Station
from hub.portal.audit import service as audit
from hub.portal.auth.models import User
from hub.portal.orgs.models import Membership
from hub.workflows.context import org_policy
from hub.workflows.errors import InvalidField, NotFoundError
from hub.workflows.models import (
    AlertRule,
    JobRun,
    Notification,
    NotificationChannel,
    NotificationPreference,
    OrgWorkflowSettings,
)
from hub.workflows.outbox import resend
from hub.workflows.rules import current_rules
from hub.workflows.schemas import (
    ChannelCreate,
    PolicyRead,
    PolicyUpdate,
    PreferenceRead,
    PreferenceUpdate,
    RuleCreate,
    RuleRead,
)
from hub.workflows.settings import OrgDefaults
from hub.workflows.timeline import find_alert, record


def get_policy(*, session: Session, org_id: str, defaults: OrgDefaults) -> PolicyRead:
    row = session.get(OrgWorkflowSettings, org_id)
    policy = org_policy(session, org_id, defaults)
    return PolicyRead(
        **policy.model_dump(), version=row.version if row else 0,
        updated_by=row.updated_by if row else None, updated_at=row.updated_at if row else None,
    )  # fmt: skip


def set_policy(
    *,
    session: Session,
    org_id: str,
    policy: PolicyUpdate,
    actor: str,
    actor_user_id: str,
    now: datetime,
) -> PolicyRead:
    row = session.get(OrgWorkflowSettings, org_id)
    config = policy.model_dump(mode="json")
    before = dict(row.config) if row else None
    if row is None:
        row = OrgWorkflowSettings(org_id=org_id, config=config, version=1)
        session.add(row)
    else:
        row.config, row.version = config, row.version + 1
    row.updated_by, row.updated_at = actor, now
    session.flush()
    audit.record(
        session=session, action="workflow.policy_updated", org_id=org_id,
        actor_user_id=actor_user_id, actor_email=actor, target=f"policy v{row.version}",
        detail={"before": before, "after": config},
    )  # fmt: skip
    return get_policy(session=session, org_id=org_id, defaults=OrgDefaults())


# -- rules --------------------------------------------------------------------------------


def rule_read(rule: AlertRule) -> RuleRead:
    return RuleRead(
        rule_id=rule.rule_id, version=rule.version, name=rule.name,
        sensor=rule.metric if rule.source == "sensor" else None,
        score_kind=rule.metric if rule.source == "score" else None,
        comparison=rule.comparison, value=rule.value, for_min=rule.for_min,
        severity=rule.severity, scope=rule.scope, scope_id=rule.scope_id,
        enabled=rule.enabled, created_by=rule.created_by, created_at=rule.created_at,
    )  # fmt: skip


def list_rules(*, session: Session, org_id: str) -> list[RuleRead]:
    return [rule_read(rule) for rule in current_rules(session, org_id)]


def rule_versions(*, session: Session, org_id: str, rule_id: str) -> list[RuleRead]:
    rows = session.scalars(
        select(AlertRule)
        .where(AlertRule.org_id == org_id, AlertRule.rule_id == rule_id)
        .order_by(AlertRule.version.desc())
    ).all()
    if not rows:
        raise NotFoundError("No such rule.")
    return [rule_read(row) for row in rows]


def _check_scope(session: Session, org_id: str, body: RuleCreate) -> None:
    problem = body.problem()
    if problem is not None:
        raise InvalidField(*problem)
    if body.scope == "station" and session.get(Station, (org_id, body.scope_id)) is None:
        raise InvalidField("scope_id", f"no station {body.scope_id!r} in this organisation")
    if body.scope == "compressor" and session.get(Compressor, (org_id, body.scope_id)) is None:
        raise InvalidField("scope_id", f"no compressor {body.scope_id!r} in this organisation")


def save_rule(
    *, session: Session, org_id: str, body: RuleCreate, actor: str, actor_user_id: str,
    rule_id: str | None = None, now: datetime,
) -> RuleRead:  # fmt: skip
    """A new rule (rule_id None) or a new version of an existing one; nothing is edited."""
    version = 1
    if rule_id is not None:
        newest = session.scalar(
            select(func.max(AlertRule.version)).where(
                AlertRule.org_id == org_id, AlertRule.rule_id == rule_id
            )
        )
        if newest is None:
            raise NotFoundError("No such rule.")
        version = newest + 1
    _check_scope(session, org_id, body)
    rule = AlertRule(
        org_id=org_id, rule_id=rule_id or uuid.uuid4().hex, version=version, name=body.name,
        source="sensor" if body.sensor else "score", metric=body.sensor or body.score_kind,
        comparison=body.comparison, value=body.value, for_min=body.for_min,
        severity=body.severity, scope=body.scope, scope_id=body.scope_id, enabled=body.enabled,
        created_by=actor, created_at=now,
    )  # fmt: skip
    session.add(rule)
    session.flush()
    audit.record(
        session=session, action="workflow.rule_saved", org_id=org_id, actor_user_id=actor_user_id,
        actor_email=actor, target=rule.rule_id,
        detail={"version": version, **body.model_dump(mode="json")},
    )  # fmt: skip
    return rule_read(rule)


# -- contact points -----------------------------------------------------------------------


def list_channels(*, session: Session, org_id: str) -> list[NotificationChannel]:
    return list(
        session.scalars(
            select(NotificationChannel)
            .where(NotificationChannel.org_id == org_id)
            .order_by(NotificationChannel.created_at, NotificationChannel.id)
        )
    )


def create_channel(
    *, session: Session, org_id: str, body: ChannelCreate, require_https: bool, actor: str,
    actor_user_id: str,
) -> NotificationChannel:  # fmt: skip
    if body.url is not None and require_https and not body.url.startswith("https://"):
        raise InvalidField("url", "must be an https:// URL outside development mode")
    channel = NotificationChannel(
        org_id=org_id, id=uuid.uuid4().hex, name=body.name, kind=body.kind,
        target=body.url or str(body.email), secret=secrets.token_urlsafe(32),
        severities=list(body.severities), enabled=body.enabled,
    )  # fmt: skip
    session.add(channel)
    session.flush()
    audit.record(
        session=session, action="workflow.channel_created", org_id=org_id,
        actor_user_id=actor_user_id, actor_email=actor, target=channel.id,
        detail={"name": channel.name, "kind": channel.kind, "target": channel.target},
    )  # fmt: skip
    return channel


def delete_channel(
    *, session: Session, org_id: str, channel_id: str, actor: str, actor_user_id: str
) -> None:
    """Pending notifications to it end in the dead letter ("the contact point no longer exists")."""
    channel = session.get(NotificationChannel, (org_id, channel_id))
    if channel is None:
        raise NotFoundError("No such contact point.")
    session.delete(channel)
    audit.record(
        session=session, action="workflow.channel_deleted", org_id=org_id,
        actor_user_id=actor_user_id, actor_email=actor, target=channel_id,
        detail={"name": channel.name, "kind": channel.kind},
    )  # fmt: skip
    session.flush()


# -- preferences --------------------------------------------------------------------------


def get_preference(*, session: Session, org_id: str, user_id: str) -> PreferenceRead:
    row = session.get(NotificationPreference, (org_id, user_id))
    if row is None:
        return PreferenceRead(user_id=user_id)
    return PreferenceRead(
        user_id=user_id, channels=row.channels, severities=row.severities, phone=row.phone,
        quiet_start=row.quiet_start, quiet_end=row.quiet_end, timezone=row.timezone,
    )  # fmt: skip


def set_preference(
    *, session: Session, org_id: str, user_id: str, body: PreferenceUpdate, now: datetime
) -> PreferenceRead:
    row = session.get(NotificationPreference, (org_id, user_id))
    if row is None:
        row = NotificationPreference(org_id=org_id, user_id=user_id)
        session.add(row)
    values = body.model_dump()
    for key, value in values.items():
        setattr(row, key, value)
    row.updated_at = now
    session.flush()
    return get_preference(session=session, org_id=org_id, user_id=user_id)


# -- delivery log, job runs, alert work ---------------------------------------------------


def list_notifications(
    *, session: Session, org_id: str, status: str | None, episode_id: str | None = None,
    limit: int, offset: int,
) -> tuple[list[Notification], int]:  # fmt: skip
    query = select(Notification).where(
        Notification.org_id == org_id, Notification.archived_at.is_(None)
    )
    if status:
        query = query.where(Notification.status == status)
    if episode_id:
        query = query.where(Notification.episode_id == episode_id)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.scalars(
        query.order_by(Notification.data_time.desc(), Notification.id).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def resend_notification(
    *,
    session: Session,
    org_id: str,
    notification_id: str,
    actor: str,
    actor_user_id: str,
    now: datetime,
) -> Notification:
    row = session.get(Notification, (org_id, notification_id))
    if row is None:
        raise NotFoundError("No such notification.")
    if row.status not in ("dead", "suppressed"):
        raise InvalidField(
            "status", f"only dead or suppressed notifications are re-sent, not {row.status}"
        )
    resend(session, org_id=org_id, notification_id=notification_id, now=now)
    audit.record(
        session=session, action="workflow.notification_resent", org_id=org_id,
        actor_user_id=actor_user_id, actor_email=actor, target=notification_id,
        detail={"channel": row.channel, "recipient": row.recipient},
    )  # fmt: skip
    return row


def list_job_runs(*, session: Session, limit: int, offset: int) -> tuple[list[JobRun], int]:
    total = session.scalar(select(func.count()).select_from(JobRun)) or 0
    rows = session.scalars(
        select(JobRun).order_by(JobRun.tick.desc(), JobRun.job).limit(limit).offset(offset)
    ).all()
    return list(rows), int(total)


def assign(
    *, session: Session, org_id: str, episode_id: str, user_id: str | None, actor: str,
    actor_user_id: str, now: datetime,
) -> None:  # fmt: skip
    if find_alert(session, org_id, episode_id) is None:
        raise NotFoundError("No such alert.")
    detail: dict[str, Any] = {"user_id": user_id, "email": None}
    if user_id is not None:
        member = session.execute(
            select(User.email)
            .join(Membership, Membership.user_id == User.id)
            .where(Membership.org_id == org_id, User.id == user_id)
        ).scalar_one_or_none()
        if member is None:
            raise InvalidField("user_id", "not a member of this organisation")
        detail["email"] = member
    record(session, org_id=org_id, episode_id=episode_id, kind="assigned", at=now, actor=actor,
           actor_user_id=actor_user_id, detail=detail)  # fmt: skip


def comment(
    *, session: Session, org_id: str, episode_id: str, text: str, actor: str, actor_user_id: str,
    now: datetime,
) -> None:  # fmt: skip
    if find_alert(session, org_id, episode_id) is None:
        raise NotFoundError("No such alert.")
    record(session, org_id=org_id, episode_id=episode_id, kind="comment", at=now, actor=actor,
           actor_user_id=actor_user_id, detail={"note": text})  # fmt: skip
