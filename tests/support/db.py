"""Serving-database helpers for tests: migrated SQLite files and PostgreSQL databases."""

from __future__ import annotations

import uuid

import psycopg

from hub.db.migrate import upgrade
from tests.support.services import Postgres

APP_ROLE = "altaviz_app"
APP_PASSWORD = "altaviz-app-test"


def fresh_postgres_database(postgres: Postgres) -> str:
    """Create an empty database, migrate it as the owner, and return the owner's URL."""
    name = f"t_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(postgres.url(driver="postgresql"), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = postgres.url(name)
    upgrade(url)
    return url


def app_role_url(postgres: Postgres, owner_url: str) -> str:
    """A URL for a non-superuser role: superusers bypass row-level security, apps must not."""
    database = owner_url.rsplit("/", 1)[1]
    with psycopg.connect(owner_url.replace("+psycopg", ""), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
        if not exists:
            conn.execute(
                f"CREATE ROLE {APP_ROLE} LOGIN NOSUPERUSER NOBYPASSRLS PASSWORD '{APP_PASSWORD}'"
            )
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {APP_ROLE}")
        conn.execute(
            f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {APP_ROLE}"
        )
        conn.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {APP_ROLE}")
    return f"postgresql+psycopg://{APP_ROLE}:{APP_PASSWORD}@127.0.0.1:{postgres.port}/{database}"
