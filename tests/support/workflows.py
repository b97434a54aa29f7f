"""Workflow objects of an org (cross-tenant and API tests need real ids)."""

from __future__ import annotations

import uuid

from sqlalchemy import Engine

from hub.db.base import utc_now
from hub.db.session import session_scope
from hub.workflows.models import AlertRule, NotificationChannel
from hub.workflows.outbox import enqueue


def seed_workflow_objects(engine: Engine, org) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """A rule, a contact point and a dead-lettered notification in `org`; their ids."""
    with session_scope(engine, org_id=org.org_id) as session:
        rule = AlertRule(
            org_id=org.org_id, rule_id=uuid.uuid4().hex, version=1, name="Hot discharge",
            source="sensor", metric="discharge_temp_f", comparison=">", value=300.0, for_min=10,
            severity="critical", scope="org", scope_id=None, enabled=True,
        )  # fmt: skip
        channel = NotificationChannel(
            org_id=org.org_id, id=uuid.uuid4().hex, name="ops webhook", kind="webhook",
            target="https://hooks.example.com/altaviz", secret="s" * 32,
            severities=["warning", "critical"],
        )  # fmt: skip
        session.add_all([rule, channel])
        session.flush()
        notification = enqueue(
            session, org_id=org.org_id, event="escalated", channel="webhook",
            recipient=channel.target, channel_id=channel.id, severity="critical",
            subject="Discharge temp high", body="...", payload={}, data_time=utc_now(),
        )  # fmt: skip
        notification.status = "dead"
        return {
            "rule_id": rule.rule_id,
            "channel_id": channel.id,
            "notification_id": notification.id,
        }
