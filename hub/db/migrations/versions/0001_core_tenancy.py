"""Core tenancy: organizations, stations, compressors (with row-level security).

Revision ID: 0001_core
Revises:
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0001_core"
down_revision = None
branch_labels = ("core",)
depends_on = None

_TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "organizations",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("plan", sa.String(32), nullable=False),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_organizations"),
    )
    op.create_table(
        "stations",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("basin", sa.String(100)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_stations"),
        sa.ForeignKeyConstraint(
            ["org_id"], ["organizations.id"], ondelete="CASCADE",
            name="fk_stations_org_id_organizations",
        ),
    )  # fmt: skip
    op.create_table(
        "compressors",
        sa.Column("org_id", sa.String(64), nullable=False),
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("station_id", sa.String(64), nullable=False),
        sa.Column("model", sa.String(100)),
        sa.Column("driver", sa.String(100)),
        sa.Column("rated_hp", sa.Float),
        sa.Column("stages", sa.Integer),
        sa.Column("created_at", _TS, nullable=False),
        sa.Column("updated_at", _TS, nullable=False),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_compressors"),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"], ["stations.org_id", "stations.id"], ondelete="CASCADE",
            name="fk_compressors_org_id_stations",
        ),
    )  # fmt: skip
    op.create_index("ix_compressors_station_id", "compressors", ["station_id"])
    enable_tenant_rls("organizations", column="id")
    enable_tenant_rls("stations")
    enable_tenant_rls("compressors")


def downgrade() -> None:
    for table in ("compressors", "stations", "organizations"):
        disable_tenant_rls(table)
    op.drop_index("ix_compressors_station_id", table_name="compressors")
    op.drop_table("compressors")
    op.drop_table("stations")
    op.drop_table("organizations")
