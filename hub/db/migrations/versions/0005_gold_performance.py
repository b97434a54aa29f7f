"""Serving's hourly aggregates carry gold's performance figures of each compressor-hour.

Revision ID: 0005_gold_performance
Revises: 0002_serving
Create Date: 2026-12-07 17:05:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_gold_performance"
down_revision = "0002_serving"
branch_labels = None
depends_on = None

COLUMNS = (
    "stage_compression_ratio",
    "ideal_discharge_temp_f",
    "discharge_temp_excess_f",
    "isentropic_gas_hp",
    "adiabatic_efficiency",
)


def upgrade() -> None:
    with op.batch_alter_table("hourly_aggregates") as table:
        for name in COLUMNS:
            table.add_column(sa.Column(name, sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("hourly_aggregates") as table:
        for name in reversed(COLUMNS):
            table.drop_column(name)
