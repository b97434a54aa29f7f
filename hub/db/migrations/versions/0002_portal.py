"""Portal: users, memberships, invitations, API tokens, sessions, sign-in attempts,
password resets, audit log, station MQTT credentials, billing (with row-level security).

Org-scoped tables use the core tenant policy (app.org_id). Users are global, so their
tables have policies keyed on further transaction settings the portal sets: app.user_id
(the signed-in user: "my orgs", my sessions), app.login_email / app.client_ip (a sign-in
in progress), and the sha256 of a presented secret (session cookie, API token,
invitation or reset link), which only its holder can know. The holder of a session or
token may read that user and their memberships, so a request resolves its caller and
their organisations in one query.

Revision ID: 0002_portal
Revises: 0001_core
Create Date: 2026-11-26
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from hub.db.rls import disable_tenant_rls, enable_tenant_rls

revision = "0002_portal"
down_revision = "0001_core"
branch_labels = ("portal",)
depends_on = None

POLICY = "portal_access"
TENANT_TABLES = ("station_credentials", "billing_accounts", "stripe_events")


def _s(name: str) -> str:
    return f"current_setting('app.{name}', true)"


def _held_by_caller(user_column: str) -> str:
    """The row belongs to the user whose session cookie or API token the request presented."""
    return (
        f"EXISTS (SELECT 1 FROM user_sessions s WHERE s.user_id = {user_column} "
        f"AND s.token_hash = {_s('session_hash')}) OR "
        f"EXISTS (SELECT 1 FROM api_tokens t WHERE t.user_id = {user_column} "
        f"AND t.token_hash = {_s('token_hash')})"
    )


#: table -> (USING, WITH CHECK) for tables whose rows are not simply one org's.
POLICIES: dict[str, tuple[str, str]] = {
    "users": (
        f"id = {_s('user_id')} OR email = {_s('login_email')} OR EXISTS ("
        f"SELECT 1 FROM memberships m WHERE m.user_id = users.id AND m.org_id = {_s('org_id')})"
        f" OR {_held_by_caller('users.id')}",
        f"id = {_s('user_id')} OR email = {_s('login_email')}",
    ),
    "oauth_identities": (
        f"user_id = {_s('user_id')} OR subject_key = {_s('login_subject')}",
        f"user_id = {_s('user_id')}",
    ),
    "user_sessions": (
        f"user_id = {_s('user_id')} OR token_hash = {_s('session_hash')}",
        f"user_id = {_s('user_id')}",
    ),
    "login_attempts": (
        f"email = {_s('login_email')} OR client_ip = {_s('client_ip')}",
        f"email = {_s('login_email')} AND client_ip = {_s('client_ip')}",
    ),
    "password_reset_tokens": (
        f"user_id = {_s('user_id')} OR token_hash = {_s('reset_hash')}",
        f"user_id = {_s('user_id')}",
    ),
    "memberships": (
        f"org_id = {_s('org_id')} OR user_id = {_s('user_id')} OR "
        + _held_by_caller("memberships.user_id"),
        f"org_id = {_s('org_id')}",
    ),
    "invitations": (
        f"org_id = {_s('org_id')} OR token_hash = {_s('invite_hash')}",
        f"org_id = {_s('org_id')}",
    ),
    "api_tokens": (
        f"org_id = {_s('org_id')} OR token_hash = {_s('token_hash')}",
        f"org_id = {_s('org_id')}",
    ),
    "audit_log": (
        f"org_id = {_s('org_id')} OR (org_id IS NULL AND actor_user_id = {_s('user_id')})",
        f"org_id IS NULL OR org_id = {_s('org_id')}",
    ),
}

#: Extra, read-only: a user sees the organisations they belong to ("my orgs"): those with a
#: membership row visible under the memberships policy.
MEMBER_ORGS_POLICY = "member_orgs"
MEMBER_ORGS_USING = "EXISTS (SELECT 1 FROM memberships m WHERE m.org_id = organizations.id)"


def _postgres() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def _enable_policies() -> None:
    for table in TENANT_TABLES:
        enable_tenant_rls(table)
    if not _postgres():
        return
    for table, (using, check) in POLICIES.items():
        op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
        op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
        op.execute(f'CREATE POLICY {POLICY} ON "{table}" USING ({using}) WITH CHECK ({check})')
    op.execute(
        f"CREATE POLICY {MEMBER_ORGS_POLICY} ON organizations FOR SELECT USING ({MEMBER_ORGS_USING})"
    )


def _disable_policies() -> None:
    for table in TENANT_TABLES:
        disable_tenant_rls(table)
    if not _postgres():
        return
    op.execute(f"DROP POLICY IF EXISTS {MEMBER_ORGS_POLICY} ON organizations")
    for table in POLICIES:
        op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_user_id", sa.String(length=32), nullable=True),
        sa.Column("actor_email", sa.String(length=320), nullable=True),
        sa.Column("target", sa.String(length=200), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.Column("detail", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_actor_user_id", "audit_log", ["actor_user_id"])
    op.create_index("ix_audit_log_org_id_at", "audit_log", ["org_id", "at"])

    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_login_attempts"),
    )
    op.create_index("ix_login_attempts_client_ip_at", "login_attempts", ["client_ip", "at"])
    op.create_index("ix_login_attempts_email_at", "login_attempts", ["email", "at"])

    op.create_table(
        "users",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("last_login_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_users"),
        sa.UniqueConstraint("email", name="uq_users_email"),
    )
    op.create_table(
        "billing_accounts",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("stripe_customer_id", sa.String(length=100), nullable=True),
        sa.Column("stripe_subscription_id", sa.String(length=100), nullable=True),
        sa.Column("status", sa.String(length=32), nullable=False),
        sa.Column("current_period_end", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_billing_accounts_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", name="pk_billing_accounts"),
        sa.UniqueConstraint("stripe_customer_id", name="uq_billing_accounts_stripe_customer_id"),
    )
    op.create_table(
        "invitations",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("invited_by", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["invited_by"],
            ["users.id"],
            name="fk_invitations_invited_by_users",
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_invitations_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_invitations"),
        sa.UniqueConstraint("token_hash", name="uq_invitations_token_hash"),
    )
    op.create_table(
        "memberships",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_memberships_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_memberships_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "user_id", name="pk_memberships"),
    )
    op.create_index("ix_memberships_user_id", "memberships", ["user_id"])

    op.create_table(
        "oauth_identities",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("provider", sa.String(length=40), nullable=False),
        sa.Column("subject_key", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_oauth_identities_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_oauth_identities"),
        sa.UniqueConstraint("subject_key", name="uq_oauth_identities_subject_key"),
    )
    op.create_index("ix_oauth_identities_user_id", "oauth_identities", ["user_id"])

    op.create_table(
        "password_reset_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name="fk_password_reset_tokens_user_id_users",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_password_reset_tokens"),
    )
    op.create_index("ix_password_reset_tokens_user_id", "password_reset_tokens", ["user_id"])

    op.create_table(
        "stripe_events",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id"],
            ["organizations.id"],
            name="fk_stripe_events_org_id_organizations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "event_id", name="pk_stripe_events"),
    )
    op.create_table(
        "user_sessions",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("org_id", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("client_ip", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_user_sessions_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("token_hash", name="pk_user_sessions"),
    )
    op.create_index("ix_user_sessions_user_id", "user_sessions", ["user_id"])

    op.create_table(
        "api_tokens",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=32), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["org_id", "user_id"],
            ["memberships.org_id", "memberships.user_id"],
            name="fk_api_tokens_org_id_memberships",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_api_tokens_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("org_id", "id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_hash", name="uq_api_tokens_token_hash"),
    )
    op.create_table(
        "station_credentials",
        sa.Column("org_id", sa.String(length=64), nullable=False),
        sa.Column("station_id", sa.String(length=64), nullable=False),
        sa.Column("username", sa.String(length=140), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["org_id", "station_id"],
            ["stations.org_id", "stations.id"],
            name="fk_station_credentials_org_id_stations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("org_id", "station_id", name="pk_station_credentials"),
        sa.UniqueConstraint("username", name="uq_station_credentials_username"),
    )
    _enable_policies()


def downgrade() -> None:
    _disable_policies()
    op.drop_table("station_credentials")
    op.drop_table("api_tokens")
    op.drop_table("user_sessions")
    op.drop_table("stripe_events")
    op.drop_table("password_reset_tokens")
    op.drop_table("oauth_identities")
    op.drop_table("memberships")
    op.drop_table("invitations")
    op.drop_table("billing_accounts")
    op.drop_table("users")
    op.drop_table("login_attempts")
    op.drop_table("audit_log")
