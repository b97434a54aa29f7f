"""Work orders: maintenance_events gains its workflow columns (title, component, status,
assignee, parts, downtime, closing, CMMS id); attachments and episode reviews (tenant-scoped,
row-level security); API tokens gain a scope (read / read_write).

Revision ID: 0004_opscenter
Revises: 0003_station_events
Create Date: 2026-12-07 13:45:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004_opscenter"
down_revision = "0003_station_events"
branch_labels = None
#: api_tokens (the scope column) comes from the portal branch.
depends_on = ("0002_portal",)

TABLES = ("maintenance_attachments", "episode_reviews")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("maintenance_events", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("title", sa.String(length=200), server_default="", nullable=False)
        )
        batch_op.add_column(sa.Column("component", sa.String(length=32), nullable=True))
        batch_op.add_column(
            sa.Column("status", sa.String(length=16), server_default="closed", nullable=False)
        )
        batch_op.add_column(sa.Column("assigned_to", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("parts", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("downtime_hours", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("created_by", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("closed_at", TS, nullable=True))
        batch_op.add_column(sa.Column("closed_by", sa.String(length=320), nullable=True))
        batch_op.add_column(sa.Column("external_id", sa.String(length=100), nullable=True))
    op.create_table(
        "maintenance_attachments",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("attachment_id", sa.String(length=32), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column("content_type", sa.String(length=100), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("stored_path", sa.String(length=400), nullable=False),
        sa.Column("uploaded_by", sa.String(length=320), nullable=True),
        sa.Column("uploaded_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "event_id"],
            ["maintenance_events.org_id", "maintenance_events.event_id"],
            name=op.f("fk_maintenance_attachments_org_id_maintenance_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "attachment_id", name=op.f("pk_maintenance_attachments")),
    )
    op.create_index("ix_maintenance_attachments_event_id", "maintenance_attachments", ["event_id"])
    op.create_table(
        "episode_reviews",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.String(length=32), nullable=False),
        sa.Column("verdict", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("reviewed_by", sa.String(length=320), nullable=True),
        sa.Column("reviewed_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "episode_id"],
            ["alert_episodes.org_id", "alert_episodes.episode_id"],
            name=op.f("fk_episode_reviews_org_id_alert_episodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "episode_id", name=op.f("pk_episode_reviews")),
    )
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), server_default="read_write", nullable=False)
        )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    with op.batch_alter_table("api_tokens", schema=None) as batch_op:
        batch_op.drop_column("scope")
    op.drop_table("episode_reviews")
    op.drop_index("ix_maintenance_attachments_event_id", table_name="maintenance_attachments")
    op.drop_table("maintenance_attachments")
    with op.batch_alter_table("maintenance_events", schema=None) as batch_op:
        for column in (
            "external_id", "closed_by", "closed_at", "created_by", "downtime_hours", "parts",
            "assigned_to", "status", "component", "title",
        ):  # fmt: skip
            batch_op.drop_column(column)
