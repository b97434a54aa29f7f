"""The throwaway PostgreSQL cluster the serving-database tests use is real."""

from __future__ import annotations

import pytest

from tests.support.services import Postgres


@pytest.mark.postgres
def test_throwaway_postgres_answers(postgres: Postgres) -> None:
    psycopg = pytest.importorskip("psycopg")
    with psycopg.connect(postgres.url(driver="postgresql")) as conn:
        version = conn.execute("SHOW server_version").fetchone()
        assert version is not None and int(version[0].split(".")[0]) >= 13
        conn.execute("CREATE TABLE probe (id int)")
        conn.execute("INSERT INTO probe VALUES (1)")
        assert conn.execute("SELECT count(*) FROM probe").fetchone() == (1,)
