"""Alembic environment: the URL comes from the Config the caller built (hub.db.migrate)."""

from __future__ import annotations

from alembic import context
from sqlalchemy import pool

import hub.compliance.models
import hub.db.models
import hub.ingest.models  # the hot path: compressor_latest, station_latest
import hub.portal.models
import hub.scoring.models  # hub-side scoring: model_status
import hub.serving.models  # noqa: F401 - the lakehouse's serving tables (status, aggregates, alerts, ...)
from hub.db.base import Base
from hub.db.session import make_engine
from hub.workflows import models as _workflows  # noqa: F401 - runs, workflow alerts, outbox, rules

config = context.config
target_metadata = Base.metadata


def run_migrations_offline() -> None:
    context.configure(
        url=config.get_main_option("sqlalchemy.url"),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    url = config.get_main_option("sqlalchemy.url")
    assert url is not None
    engine = make_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            # SQLite cannot ALTER most things: batch mode recreates tables instead.
            render_as_batch=connection.dialect.name == "sqlite",
        )
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
