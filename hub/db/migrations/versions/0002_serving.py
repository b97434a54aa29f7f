"""Serving tables the lakehouse upserts from gold (with row-level security).

Latest status, hourly and daily aggregates, recent minutes, alert episodes and their
events, predictions, station freshness, data quality, the model registry and
deployments, maintenance events: hub/serving/models.py. Every table is tenant-scoped
with the core policy (org_id = app.org_id).

Revision ID: 0002_serving
Revises: 0001_core
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0002_serving"
down_revision = "0001_core"
branch_labels = ("serving",)
depends_on = None

TABLES = (
    "model_registry",
    "model_deployments",
    "station_freshness",
    "alert_episodes",
    "compressor_status",
    "daily_aggregates",
    "data_quality_hourly",
    "hourly_aggregates",
    "maintenance_events",
    "predictions",
    "recent_minutes",
    "alert_events",
)


def upgrade() -> None:
    op.create_table(
        "model_registry",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("trained_from", sa.DateTime(timezone=True), nullable=True),
        sa.Column("trained_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("bundle_sha256", sa.String(length=64), nullable=True),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name=op.f("fk_model_registry_org_id_organizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "model_id", "version", name=op.f("pk_model_registry")),
    )
    op.create_table(
        "model_deployments",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("offered_version", sa.String(length=64), nullable=True),
        sa.Column("running_version", sa.String(length=64), nullable=True),
        sa.Column("previous_version", sa.String(length=64), nullable=True),
        sa.Column("rollout_state", sa.String(length=16), nullable=False),
        sa.Column("reported_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name=op.f("fk_model_deployments_org_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "station_id", "model_id", name=op.f("pk_model_deployments")
        ),
    )
    op.create_table(
        "station_freshness",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("last_reading_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("compressors_reporting", sa.Integer(), nullable=False),
        sa.Column("readings_last_hour", sa.BigInteger(), nullable=False),
        sa.Column("lag_p50_s", sa.Float(), nullable=True),
        sa.Column("lag_p95_s", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name=op.f("fk_station_freshness_org_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "station_id", name=op.f("pk_station_freshness")),
    )
    op.create_table(
        "alert_episodes",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.String(length=32), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("condition", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=16), nullable=False),
        sa.Column("signal", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=False),
        sa.Column("first_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("peak_value", sa.Float(), nullable=False),
        sa.Column("peak_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("warning_threshold", sa.Float(), nullable=False),
        sa.Column("critical_threshold", sa.Float(), nullable=True),
        sa.Column("minutes_active", sa.Integer(), nullable=False),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("acknowledged_by", sa.String(length=320), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=320), nullable=True),
        sa.Column("resolution_note", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_alert_episodes_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "episode_id", name=op.f("pk_alert_episodes")),
    )
    op.create_index(
        "ix_alert_episodes_org_compressor", "alert_episodes", ["org_id", "compressor_id"]
    )
    op.create_index("ix_alert_episodes_org_status", "alert_episodes", ["org_id", "status"])
    op.create_table(
        "compressor_status",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("as_of", sa.DateTime(timezone=True), nullable=False),
        sa.Column("operating_state", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("health_score", sa.Integer(), nullable=True),
        sa.Column("open_warning", sa.Integer(), nullable=False),
        sa.Column("open_critical", sa.Integer(), nullable=False),
        sa.Column("vibration_mms_mean", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_mean", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_mean", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_mean", sa.Float(), nullable=True),
        sa.Column("hp_efficiency", sa.Float(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_compressor_status_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "compressor_id", name=op.f("pk_compressor_status")),
    )
    op.create_index("ix_compressor_status_station_id", "compressor_status", ["station_id"])
    op.create_table(
        "daily_aggregates",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("vibration_mms_mean", sa.Float(), nullable=True),
        sa.Column("vibration_mms_min", sa.Float(), nullable=True),
        sa.Column("vibration_mms_max", sa.Float(), nullable=True),
        sa.Column("vibration_mms_std", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_mean", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_min", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_max", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_std", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_min", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_max", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_std", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_min", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_max", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_std", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_mean", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_min", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_max", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_std", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_mean", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_min", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_max", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_std", sa.Float(), nullable=True),
        sa.Column("n_readings", sa.BigInteger(), nullable=False),
        sa.Column("n_running_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_daily_aggregates_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "compressor_id", "day", name=op.f("pk_daily_aggregates")),
    )
    op.create_table(
        "data_quality_hourly",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("n_received", sa.BigInteger(), nullable=True),
        sa.Column("n_readings", sa.BigInteger(), nullable=True),
        sa.Column("n_duplicates", sa.BigInteger(), nullable=True),
        sa.Column("n_flagged", sa.BigInteger(), nullable=True),
        sa.Column("n_gap", sa.BigInteger(), nullable=True),
        sa.Column("n_clock_skew", sa.BigInteger(), nullable=True),
        sa.Column("n_late", sa.BigInteger(), nullable=True),
        sa.Column("n_comm_loss", sa.BigInteger(), nullable=True),
        sa.Column("n_quality", sa.BigInteger(), nullable=True),
        sa.Column("n_instrument", sa.BigInteger(), nullable=True),
        sa.Column("n_range", sa.BigInteger(), nullable=True),
        sa.Column("n_rate", sa.BigInteger(), nullable=True),
        sa.Column("n_stuck", sa.BigInteger(), nullable=True),
        sa.Column("gap_seconds", sa.Float(), nullable=False),
        sa.Column("expected_readings", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_data_quality_hourly_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "compressor_id", "hour_start", name=op.f("pk_data_quality_hourly")
        ),
    )
    op.create_index("ix_data_quality_hourly_station_id", "data_quality_hourly", ["station_id"])
    op.create_table(
        "hourly_aggregates",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("hour_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("vibration_mms_mean", sa.Float(), nullable=True),
        sa.Column("vibration_mms_min", sa.Float(), nullable=True),
        sa.Column("vibration_mms_max", sa.Float(), nullable=True),
        sa.Column("vibration_mms_std", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_mean", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_min", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_max", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_std", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_min", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_max", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_std", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_min", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_max", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_std", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_mean", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_min", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_max", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_std", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_mean", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_min", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_max", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_std", sa.Float(), nullable=True),
        sa.Column("health_score_min", sa.Integer(), nullable=True),
        sa.Column("health_score_mean", sa.Float(), nullable=True),
        sa.Column("n_readings", sa.BigInteger(), nullable=False),
        sa.Column("n_running_minutes", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_hourly_aggregates_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "compressor_id", "hour_start", name=op.f("pk_hourly_aggregates")
        ),
    )
    op.create_table(
        "maintenance_events",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("performed_by", sa.String(length=320), nullable=True),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("episode_id", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_maintenance_events_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "event_id", name=op.f("pk_maintenance_events")),
    )
    op.create_index("ix_maintenance_events_compressor_id", "maintenance_events", ["compressor_id"])
    op.create_table(
        "predictions",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("model_id", sa.String(length=64), nullable=False),
        sa.Column("score_kind", sa.String(length=32), nullable=False),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("score", sa.Float(), nullable=True),
        sa.Column("horizon_s", sa.BigInteger(), nullable=True),
        sa.Column("lower", sa.Float(), nullable=True),
        sa.Column("upper", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_predictions_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id",
            "compressor_id",
            "model_id",
            "score_kind",
            "scored_at",
            name=op.f("pk_predictions"),
        ),
    )
    op.create_table(
        "recent_minutes",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("compressor_id", sa.String(length=64), nullable=False),
        sa.Column("minute_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("n_readings", sa.Integer(), nullable=False),
        sa.Column("n_running", sa.Integer(), nullable=False),
        sa.Column("vibration_mms_mean", sa.Float(), nullable=True),
        sa.Column("vibration_mms_min", sa.Float(), nullable=True),
        sa.Column("vibration_mms_max", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_mean", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_min", sa.Float(), nullable=True),
        sa.Column("discharge_temp_f_max", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_min", sa.Float(), nullable=True),
        sa.Column("suction_pressure_psi_max", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_mean", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_min", sa.Float(), nullable=True),
        sa.Column("discharge_pressure_psi_max", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_mean", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_min", sa.Float(), nullable=True),
        sa.Column("horsepower_consumption_max", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_mean", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_min", sa.Float(), nullable=True),
        sa.Column("gas_flow_mcf_max", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "compressor_id"],
            ["compressors.org_id", "compressors.id"],
            name=op.f("fk_recent_minutes_org_id_compressors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "org_id", "compressor_id", "minute_start", name=op.f("pk_recent_minutes")
        ),
    )
    op.create_table(
        "alert_events",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("episode_id", sa.String(length=32), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("severity", sa.String(length=16), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "episode_id"],
            ["alert_episodes.org_id", "alert_episodes.episode_id"],
            name=op.f("fk_alert_events_org_id_alert_episodes"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "episode_id", "kind", "at", name=op.f("pk_alert_events")),
    )
    for table in TABLES:
        enable_tenant_rls(table)


def downgrade() -> None:
    for table in reversed(TABLES):
        disable_tenant_rls(table)
    op.drop_table("alert_events")
    op.drop_table("recent_minutes")
    op.drop_table("predictions")
    op.drop_index("ix_maintenance_events_compressor_id", table_name="maintenance_events")
    op.drop_table("maintenance_events")
    op.drop_table("hourly_aggregates")
    op.drop_index("ix_data_quality_hourly_station_id", table_name="data_quality_hourly")
    op.drop_table("data_quality_hourly")
    op.drop_table("daily_aggregates")
    op.drop_index("ix_compressor_status_station_id", table_name="compressor_status")
    op.drop_table("compressor_status")
    op.drop_index("ix_alert_episodes_org_status", table_name="alert_episodes")
    op.drop_index("ix_alert_episodes_org_compressor", table_name="alert_episodes")
    op.drop_table("alert_episodes")
    op.drop_table("station_freshness")
    op.drop_table("model_deployments")
    op.drop_table("model_registry")
