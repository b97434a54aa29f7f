"""The hot path: each compressor's newest values and each station's newest data, from ingest.

Both tables are tenant-scoped with the core policy (org_id = app.org_id).

Revision ID: 0004_hubml_hotpath
Revises: 0004_hubml
Create Date: 2026-12-07 14:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls
from shared.schema import SENSOR_FIELDS

revision = "0004_hubml_hotpath"
down_revision = "0004_hubml"
branch_labels = None
depends_on = None

TABLES = ("compressor_latest", "station_latest")
TS = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "compressor_latest",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("reading_at", TS, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("operating_state", sa.String(length=32), nullable=False),
        *(sa.Column(sensor, sa.Float(), nullable=True) for sensor in SENSOR_FIELDS),
        sa.Column("batch_id", sa.String(length=128), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_compressor_latest_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "compressor_id", name=op.f("pk_compressor_latest")),
    )
    with op.batch_alter_table("compressor_latest", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_compressor_latest_station_id"), ["station_id"], unique=False
        )
    op.create_table(
        "station_latest",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("last_reading_at", TS, nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.Column("last_batch_id", sa.String(length=128), nullable=False),
        sa.Column("compressors_in_batch", sa.Integer(), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("written_at", TS, nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name=op.f("fk_station_latest_org_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "station_id", name=op.f("pk_station_latest")),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in TABLES:
        disable_tenant_rls(table)
    with op.batch_alter_table("compressor_latest", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_compressor_latest_station_id"))
    op.drop_table("station_latest")
    op.drop_table("compressor_latest")
