"""Who hears about an alert event, on which channel: members by role (escalation steps),
their preferences (channels, severities, quiet hours that critical overrides), and the
org's contact points (webhooks, Slack, Teams) for every event of a severity they take."""

from __future__ import annotations

from datetime import datetime, time
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.portal.auth.models import User
from hub.portal.orgs.models import Membership
from hub.workflows.context import Episode, WorkflowContext, title_of
from hub.workflows.models import NotificationChannel, NotificationPreference
from hub.workflows.outbox import enqueue

ROLE_OF_TARGET = {"operators": "operator", "admins": "admin", "owner": "owner"}
#: Contact points that hear every event of their severities (sms reaches members instead).
BROADCAST_KINDS = ("webhook", "slack", "teams", "email")


def in_quiet_hours(preference: NotificationPreference, now: datetime) -> bool:
    if not preference.quiet_start or not preference.quiet_end:
        return False
    try:
        local = now.astimezone(ZoneInfo(preference.timezone or "UTC")).time()
    except ZoneInfoNotFoundError:
        local = now.time()
    start, end = (
        time.fromisoformat(preference.quiet_start),
        time.fromisoformat(preference.quiet_end),
    )
    if start <= end:
        return start <= local < end
    return local >= start or local < end  # the window wraps midnight


def describe(episode: Episode, event: str, detail: str) -> tuple[str, str]:
    """(subject, first line of the body) for an alert event."""
    where = episode.compressor_id or episode.station_id
    title = title_of(episode.condition)
    subject = f"[Altaviz {episode.severity}] {title} on {where}: {detail}"
    return subject, f"{title} on {where} (station {episode.station_id}): {detail}."


def payload_of(
    episode: Episode, *, event: str, now: datetime, detail: str, extra: dict[str, Any]
) -> dict[str, Any]:
    return {
        "event": event,
        "data_time": now.isoformat(),
        "org_id": episode.org_id,
        "detail": detail,
        "alert": {
            "id": episode.episode_id,
            "title": title_of(episode.condition),
            "condition": episode.condition,
            "severity": episode.severity,
            "station_id": episode.station_id,
            "compressor_id": episode.compressor_id,
            "opened_at": as_utc(episode.opened_at).isoformat(),
        },
        **extra,
    }


def notify(
    session: Session,
    ctx: WorkflowContext,
    episode: Episode,
    *,
    event: str,
    now: datetime,
    detail: str,
    target: str | None = None,
    extra: dict[str, Any] | None = None,
) -> int:
    """Queue the notifications for one event; returns how many rows went to the outbox."""
    subject, lead = describe(episode, event, detail)
    body = f"{lead}\n\nOpened {episode.opened_at:%Y-%m-%d %H:%M} UTC.\n{ctx.alert_url(episode.org_id, episode.episode_id)}\n"
    payload = payload_of(episode, event=event, now=now, detail=detail, extra=extra or {})
    common: dict[str, Any] = dict(
        org_id=episode.org_id, event=event, severity=episode.severity, subject=subject,
        body=body, payload=payload, data_time=now, episode_id=episode.episode_id,
    )  # fmt: skip
    queued = 0
    channels = _contact_points(session, episode.org_id)
    if target is not None:
        queued += _to_members(session, episode, ROLE_OF_TARGET[target], channels, now, common)
    for point in channels:
        if point.kind in BROADCAST_KINDS and episode.severity in point.severities:
            enqueue(
                session, channel=point.kind, recipient=point.target, channel_id=point.id, **common
            )
            queued += 1
    return queued


def _contact_points(session: Session, org_id: str) -> list[NotificationChannel]:
    return list(
        session.scalars(
            select(NotificationChannel)
            .where(NotificationChannel.org_id == org_id, NotificationChannel.enabled.is_(True))
            .order_by(NotificationChannel.created_at, NotificationChannel.id)
        )
    )


def _to_members(
    session: Session,
    episode: Episode,
    role: str,
    channels: list[NotificationChannel],
    now: datetime,
    common: dict[str, Any],
) -> int:
    members = session.execute(
        select(User, NotificationPreference)
        .join(Membership, Membership.user_id == User.id)
        .outerjoin(
            NotificationPreference,
            (NotificationPreference.org_id == Membership.org_id)
            & (NotificationPreference.user_id == User.id),
        )
        .where(
            Membership.org_id == episode.org_id, Membership.role == role, User.is_active.is_(True)
        )
        .order_by(User.email)
    ).all()
    sms = next((c for c in channels if c.kind == "sms"), None)
    queued = 0
    for user, preference in members:
        wanted = preference.channels if preference else ["email"]
        severities = preference.severities if preference else ["warning", "critical"]
        if episode.severity not in severities:
            continue
        quiet = (
            "held back: quiet hours"
            if preference is not None
            and episode.severity != "critical"
            and in_quiet_hours(preference, now)
            else None
        )
        if "email" in wanted:
            enqueue(
                session,
                channel="email",
                recipient=user.email,
                user_id=user.id,
                suppressed=quiet,
                **common,
            )
            queued += 1
        if "sms" in wanted and preference is not None and preference.phone and sms is not None:
            sms_common = {**common, "payload": {**common["payload"], "phone": preference.phone}}
            enqueue(session, channel="sms", recipient=preference.phone, channel_id=sms.id,
                    user_id=user.id, suppressed=quiet, **sms_common)  # fmt: skip
            queued += 1
    return queued
