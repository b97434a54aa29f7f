"""Seed a large organisation for the portal benchmark (bulk inserts as the database owner)."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import insert

from hub.db.base import utc_now
from hub.db.models import Compressor, Organization, Station
from hub.db.session import make_engine, session_scope
from hub.portal.auth import service as auth
from hub.portal.orgs.models import Membership
from hub.portal.tenancy import Role, set_db_scope

ORG_ID = "bench-org"


@dataclass
class Seeded:
    org_id: str
    compressor_ids: list[str] = field(default_factory=list)
    session_cookies: list[str] = field(default_factory=list)
    aggregate_rows: int = 0


def seed_bench_org(
    owner_url: str, *, compressors: int, stations: int, days: int, sessions: int
) -> Seeded:
    engine = make_engine(owner_url)
    seeded = Seeded(org_id=ORG_ID)
    now = utc_now()
    with session_scope(engine, org_id=ORG_ID) as session:
        session.add(Organization(id=ORG_ID, name="Bench Midstream", plan="enterprise"))
        session.flush()
        station_rows = [
            {"org_id": ORG_ID, "id": f"ST-{i:03d}", "name": f"Station {i:03d}",
             "basin": ("Permian", "Eagle Ford", "Haynesville", "Barnett")[i % 4],
             "latitude": 26.5 + (i * 7 % 90) / 10, "longitude": -104 + (i * 13 % 100) / 10,
             "created_at": now, "updated_at": now}
            for i in range(stations)
        ]  # fmt: skip
        session.execute(insert(Station), station_rows)
        seeded.compressor_ids = [f"C-{i:05d}" for i in range(compressors)]
        session.execute(
            insert(Compressor),
            [
                {"org_id": ORG_ID, "id": cid, "station_id": f"ST-{i % stations:03d}",
                 "model": "Ariel JGK/4", "driver": "Caterpillar G3516B", "rated_hp": 1380,
                 "stages": 3, "created_at": now, "updated_at": now}
                for i, cid in enumerate(seeded.compressor_ids)
            ],
        )  # fmt: skip
        user = auth.create_user(
            session=session, email="bench@example.com", name="Bench", password=None
        )
        set_db_scope(session, org_id=ORG_ID, user_id=user.id)
        session.add(Membership(org_id=ORG_ID, user_id=user.id, role=Role.operator.value))
        session.flush()
        for _ in range(sessions):
            created = auth.create_session(
                session=session, user=user, client_ip="127.0.0.1", hours=8, org_id=ORG_ID
            )
            seeded.session_cookies.append(created.token)
        seeded.aggregate_rows = seed_serving(session, seeded, days=days)
    engine.dispose()
    return seeded


def seed_serving(session, seeded: Seeded, *, days: int) -> int:  # type: ignore[no-untyped-def]
    """Latest status and `days` of hourly aggregates per compressor (the serving tables)."""
    return 0
