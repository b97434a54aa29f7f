"""Workflows: scheduler runs, workflow alerts, episode timeline, notification outbox,
contact points, notification preferences, versioned alert rules.

Tenant tables use the core policy (org_id = app.org_id). The scheduler's run log
(workflow_job_runs) belongs to no org: every member may read it; only a transaction that
set app.workflows = 'on' (the scheduler) may write it. The same setting lets the
scheduler list organisation ids (SELECT only) so it can visit each org under that org's
scope; it never reads another table across orgs.

Revision ID: 0004_workflows
Revises: 0003_station_events
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004_workflows"
down_revision = "0003_station_events"
branch_labels = None
# The notification preferences reference users (the portal's branch).
depends_on = "0002_portal"

TENANT_TABLES = (
    "workflow_org_settings",
    "workflow_alerts",
    "workflow_episode_events",
    "notifications",
    "notification_channels",
    "notification_preferences",
    "alert_rules",
)
SCHEDULER = "current_setting('app.workflows', true) = 'on'"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _enable_policies() -> None:
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    if not _postgres():
        return
    op.execute("ALTER TABLE workflow_job_runs ENABLE ROW LEVEL SECURITY")
    op.execute("ALTER TABLE workflow_job_runs FORCE ROW LEVEL SECURITY")
    op.execute("CREATE POLICY job_runs_read ON workflow_job_runs FOR SELECT USING (true)")
    op.execute(
        f"CREATE POLICY job_runs_write ON workflow_job_runs FOR ALL "
        f"USING ({SCHEDULER}) WITH CHECK ({SCHEDULER})"
    )
    op.execute(f"CREATE POLICY workflows_scheduler ON organizations FOR SELECT USING ({SCHEDULER})")


def _disable_policies() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    if not _postgres():
        return
    op.execute("DROP POLICY IF EXISTS workflows_scheduler ON organizations")
    op.execute("DROP POLICY IF EXISTS job_runs_write ON workflow_job_runs")
    op.execute("DROP POLICY IF EXISTS job_runs_read ON workflow_job_runs")


def upgrade() -> None:
    op.create_table(
        "workflow_job_runs",
        sa.Column("job", sa.String(length=64), nullable=False),
        sa.Column("tick", sa.BigInteger(), nullable=False),
        sa.Column("data_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("actions", sa.Integer(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("runner", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("job", "tick", name=op.f("pk_workflow_job_runs")),
    )
    op.create_table(
        "alert_rules",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("rule_id", sa.String(length=32), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("metric", sa.String(length=64), nullable=False),
        sa.Column("comparison", sa.String(length=2), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("for_min", sa.Integer(), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("scope", sa.String(length=16), nullable=False),
        sa.Column("scope_id", sa.String(length=64), nullable=True),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_alert_rules_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "rule_id", "version", name=op.f("pk_alert_rules")),
    )
    op.create_table(
        "notification_channels",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("target", sa.String(length=2000), nullable=False),
        sa.Column("secret", sa.String(length=128), nullable=False),
        sa.Column("severities", sa.JSON(), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_notification_channels_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_notification_channels")),
    )
    op.create_table(
        "notification_preferences",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("channels", sa.JSON(), nullable=False),
        sa.Column("severities", sa.JSON(), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=True),
        sa.Column("quiet_start", sa.String(length=5), nullable=True),
        sa.Column("quiet_end", sa.String(length=5), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_notification_preferences_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_notification_preferences_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", name=op.f("pk_notification_preferences")),
    )
    op.create_table(
        "notifications",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=True),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("channel", sa.String(length=16), nullable=False),
        sa.Column("channel_id", sa.String(length=32), nullable=True),
        sa.Column("user_id", sa.String(length=32), nullable=True),
        sa.Column("recipient", sa.String(length=2000), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("data_time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_notifications_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_notifications")),
    )
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index(
            "ix_notifications_org_status_next",
            ["org_id", "status", "next_attempt_at"],
            unique=False,
        )

    op.create_table(
        "workflow_episode_events",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("step", sa.Integer(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(length=320), nullable=False),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_workflow_episode_events_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name=op.f("pk_workflow_episode_events")),
    )
    with op.batch_alter_table("workflow_episode_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_workflow_episode_events_episode", ["org_id", "episode_id", "at"], unique=False
        )

    op.create_table(
        "workflow_org_settings",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("config", sa.JSON(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=320), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_workflow_org_settings_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name=op.f("pk_workflow_org_settings")),
    )
    op.create_table(
        "workflow_alerts",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.String(length=64), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("key", sa.String(length=128), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=True),
        sa.Column("condition", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("rule_id", sa.String(length=32), nullable=True),
        sa.Column("rule_version", sa.Integer(), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=320), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=320), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name=op.f("fk_workflow_alerts_org_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "episode_id", name=op.f("pk_workflow_alerts")),
    )
    with op.batch_alter_table("workflow_alerts", schema=None) as batch_op:
        batch_op.create_index("ix_workflow_alerts_org_status", ["org_id", "status"], unique=False)
    _enable_policies()


def downgrade() -> None:
    _disable_policies()
    with op.batch_alter_table("workflow_alerts", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_alerts_org_status")

    op.drop_table("workflow_alerts")
    op.drop_table("workflow_org_settings")
    with op.batch_alter_table("workflow_episode_events", schema=None) as batch_op:
        batch_op.drop_index("ix_workflow_episode_events_episode")

    op.drop_table("workflow_episode_events")
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_org_status_next")

    op.drop_table("notifications")
    op.drop_table("notification_preferences")
    op.drop_table("notification_channels")
    op.drop_table("alert_rules")
    op.drop_table("workflow_job_runs")
