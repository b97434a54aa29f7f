"""PostgreSQL row-level security for tenant-scoped tables (used by migrations)."""

from __future__ import annotations

from alembic import op

POLICY = "tenant_isolation"
#: The transaction-local setting the application sets (hub.db.session.set_tenant).
SETTING = "app.org_id"


def enable_tenant_rls(table: str, *, column: str = "org_id") -> None:
    """Only rows of the org in `app.org_id` are visible or writable; unset means none.

    FORCE applies the policy to the table owner too, so no code path can forget the
    scope; maintenance that must span orgs connects as a role with BYPASSRLS.
    """
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY')
    op.execute(
        f'CREATE POLICY {POLICY} ON "{table}" '
        f"USING ({column} = current_setting('{SETTING}', true)) "
        f"WITH CHECK ({column} = current_setting('{SETTING}', true))"
    )


def disable_tenant_rls(table: str) -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'DROP POLICY IF EXISTS {POLICY} ON "{table}"')
    op.execute(f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY')
    op.execute(f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY')
