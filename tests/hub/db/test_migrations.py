"""Migrations build the same schema the models describe, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import select

from hub.db.migrate import alembic_config, current_tables, downgrade, upgrade
from hub.db.models import Compressor, Organization, Station
from hub.db.session import make_engine, session_scope
from tests.support.db import app_role_url, fresh_postgres_database
from tests.support.services import Postgres

CORE = {"organizations", "stations", "compressors"}


def _seed(engine, org_id: str) -> None:  # type: ignore[no-untyped-def]
    with session_scope(engine, org_id=org_id) as session:
        session.add(Organization(id=org_id, name=f"Org {org_id}"))
        session.add(Station(org_id=org_id, id="STATION-1", name="Karnes City", basin="Eagle Ford"))
        session.flush()
        session.add(Compressor(org_id=org_id, id="COMP-001", station_id="STATION-1", rated_hp=1380))


def test_sqlite_upgrade_and_models_agree(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'serving.db'}"
    upgrade(url)
    engine = make_engine(url)
    assert current_tables(engine) >= CORE
    command.check(alembic_config(url))  # raises if models and migrations disagree
    _seed(engine, "org-a")
    with session_scope(engine) as session:
        assert session.scalars(select(Compressor.id)).all() == ["COMP-001"]
    downgrade(url, "base")
    assert not CORE & current_tables(engine)


@pytest.mark.postgres
def test_postgres_upgrade_and_models_agree(postgres: Postgres) -> None:
    url = fresh_postgres_database(postgres)
    command.check(alembic_config(url))
    assert current_tables(make_engine(url)) >= CORE


@pytest.mark.postgres
def test_row_level_security_hides_other_orgs(postgres: Postgres) -> None:
    owner_url = fresh_postgres_database(postgres)
    app = make_engine(app_role_url(postgres, owner_url))
    _seed(app, "org-a")
    _seed(app, "org-b")
    with session_scope(app, org_id="org-a") as session:
        assert session.scalars(select(Station.org_id)).all() == ["org-a"]
        assert session.scalars(select(Organization.id)).all() == ["org-a"]
        # Even naming the other org explicitly returns nothing.
        assert session.scalars(select(Compressor).where(Compressor.org_id == "org-b")).all() == []
    with session_scope(app) as session:  # no tenant scope set: nothing at all
        assert session.scalars(select(Station)).all() == []
    with (
        pytest.raises(Exception, match="row-level security"),
        session_scope(app, org_id="org-a") as session,
    ):
        session.add(Station(org_id="org-b", id="SNEAKY", name="cross-tenant write"))
