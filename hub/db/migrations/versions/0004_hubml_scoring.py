"""Hub-side scoring: where each model stands for an org (active, not registered, refused).

Tenant-scoped with the core policy (org_id = app.org_id).

Revision ID: 0004_hubml
Revises: 0003_station_events
Create Date: 2026-12-07 13:55:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0004_hubml"
down_revision = "0003_station_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_status",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("checked_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_model_status_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "model_id", name=op.f("pk_model_status")),
    )
    enable_tenant_rls("model_status")


def downgrade() -> None:
    disable_tenant_rls("model_status")
    op.drop_table("model_status")
