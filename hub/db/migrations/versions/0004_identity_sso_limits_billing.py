"""Identity, abuse limits and billing: throttled attempts of every kind, organisation SSO,
the session's sign-in directory, plans Pilot / Operations / Enterprise, billing state.

- login_attempts.kind: sign-in, password reset and sign-up share one throttle table.
- user_sessions.sso_directory: the directory (provider + tenant/domain) a session was
  opened through, so an org that requires its directory can check it.
- org_sso: an org's Entra tenant or Google Workspace domain, whether sign-in through it
  is required, and the role of just-in-time members. Tenant-scoped, and readable during a
  sign-in by the directory the provider asserted (app.login_directory).
- Plans renamed to what the product sells: trial -> pilot, standard -> operations.
- billing_accounts: trial end, the Stripe time of the newest applied event (ordering),
  when payment started failing and when the org went over its plan's limits.

Revision ID: 0004_identity
Revises: 0002_portal
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_identity"
down_revision = "0002_portal"
branch_labels = None
depends_on = None

ORG_SSO_POLICY = "org_sso_access"
_DIRECTORY = "current_setting('app.login_directory', true)"
_ORG = "current_setting('app.org_id', true)"


def upgrade() -> None:
    with op.batch_alter_table("login_attempts") as batch:
        batch.add_column(
            sa.Column("kind", sa.String(length=16), nullable=False, server_default="login")
        )
    with op.batch_alter_table("user_sessions") as batch:
        batch.add_column(sa.Column("sso_directory", sa.String(length=200), nullable=True))
    with op.batch_alter_table("billing_accounts") as batch:
        batch.add_column(sa.Column("trial_ends_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("last_event_at", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("past_due_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("over_limit_since", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("interval", sa.String(length=16), nullable=True))
    op.create_table(
        "org_sso",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("directory", sa.String(length=200), nullable=False),
        sa.Column("required", sa.Boolean(), nullable=False),
        sa.Column("jit_role", sa.String(length=16), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_org_sso_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name="pk_org_sso"),
    )
    op.create_index("ix_org_sso_directory", "org_sso", ["provider", "directory"])
    op.execute("UPDATE organizations SET plan = 'pilot' WHERE plan = 'trial'")
    op.execute("UPDATE organizations SET plan = 'operations' WHERE plan = 'standard'")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("ALTER TABLE org_sso ENABLE ROW LEVEL SECURITY")
        op.execute("ALTER TABLE org_sso FORCE ROW LEVEL SECURITY")
        op.execute(
            f"CREATE POLICY {ORG_SSO_POLICY} ON org_sso "
            f"USING (org_id = {_ORG} OR provider || ':' || directory = {_DIRECTORY}) "
            f"WITH CHECK (org_id = {_ORG})"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP POLICY IF EXISTS {ORG_SSO_POLICY} ON org_sso")
    op.execute("UPDATE organizations SET plan = 'standard' WHERE plan = 'operations'")
    op.execute("UPDATE organizations SET plan = 'trial' WHERE plan = 'pilot'")
    op.drop_index("ix_org_sso_directory", table_name="org_sso")
    op.drop_table("org_sso")
    with op.batch_alter_table("billing_accounts") as batch:
        for column in ("interval", "over_limit_since", "past_due_since", "last_event_at",
                       "trial_ends_at"):  # fmt: skip
            batch.drop_column(column)
    with op.batch_alter_table("user_sessions") as batch:
        batch.drop_column("sso_directory")
    with op.batch_alter_table("login_attempts") as batch:
        batch.drop_column("kind")
