"""Station events: what each edge agent last reported (status) and the alarms it raised.

Both tables are tenant-scoped with the core policy (org_id = app.org_id).

Revision ID: 0003_station_events
Revises: 0002_serving
Create Date: 2026-11-26 08:36:54.164445
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0003_station_events"
down_revision = "0002_serving"
branch_labels = None
depends_on = None

TABLES = ("station_links", "edge_alarms")


def upgrade() -> None:
    op.create_table(
        "station_links",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("online", sa.Boolean(), nullable=False),
        sa.Column("agent_version", sa.String(length=32), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("last_model_update", sa.JSON(), nullable=True),
        sa.Column("backlog_readings", sa.BigInteger(), nullable=False),
        sa.Column("unacked_batches", sa.Integer(), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=True),
        sa.Column("active_alarms", sa.Integer(), nullable=False),
        sa.Column("forced_out_readings", sa.BigInteger(), nullable=False),
        sa.Column("clock_jumps", sa.Integer(), nullable=False),
        sa.Column("buffer_bytes", sa.BigInteger(), nullable=True),
        sa.Column("panels", sa.JSON(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name=op.f("fk_station_links_org_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "station_id", name=op.f("pk_station_links")),
    )
    op.create_table(
        "edge_alarms",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.String(length=128), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("condition", sa.String(length=64), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("event", sa.String(length=16), nullable=False),
        sa.Column("raised_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metric", sa.String(length=64), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("threshold", sa.Float(), nullable=True),
        sa.Column("peak_value", sa.Float(), nullable=True),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_edge_alarms_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "episode_id", name=op.f("pk_edge_alarms")),
    )
    with op.batch_alter_table("edge_alarms", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_edge_alarms_compressor_id"), ["compressor_id"], unique=False
        )

    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    with op.batch_alter_table("edge_alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_edge_alarms_compressor_id"))

    op.drop_table("edge_alarms")
    op.drop_table("station_links")
