"""Station configuration: every version the hub pushed to a station, and the station's last report.

Both tables are tenant-scoped with the core policy (org_id = app.org_id).

Revision ID: 0004_field
Revises: 0003_station_events
Create Date: 2026-12-07 13:16:50.236578
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004_field"
down_revision = "0003_station_events"
branch_labels = None
depends_on = None

TABLES = ("station_config_versions", "station_config_reports")


def upgrade() -> None:
    op.create_table(
        "station_config_reports",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("running_version", sa.Integer(), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name=op.f("fk_station_config_reports_org_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "station_id", name=op.f("pk_station_config_reports")),
    )
    op.create_table(
        "station_config_versions",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("signed", sa.JSON(), nullable=False),
        sa.Column("issued_by", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name=op.f("fk_station_config_versions_org_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "station_id", "version", name=op.f("pk_station_config_versions")
        ),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    op.drop_table("station_config_versions")
    op.drop_table("station_config_reports")
