"""Seed a large organisation for the portal benchmark (bulk inserts as the database owner)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

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
    engine.dispose()
    seeded.aggregate_rows = seed_serving(owner_url, seeded, stations=stations, days=days)
    return seeded


def seed_serving(owner_url: str, seeded: Seeded, *, stations: int, days: int) -> int:
    """Latest status per compressor and `days` of hourly aggregates (COPY, as the owner)."""
    import psycopg

    from shared.schema import SENSOR_FIELDS

    base = {"vibration_mms": 3.0, "discharge_temp_f": 220.0, "suction_pressure_psi": 60.0,
            "discharge_pressure_psi": 1000.0, "horsepower_consumption": 1200.0,
            "gas_flow_mcf": 9000.0}  # fmt: skip
    end = utc_now().replace(minute=0, second=0, microsecond=0)
    hours = [end - timedelta(hours=h) for h in range(days * 24)]
    sensor_cols = [f"{n}_{stat}" for n in SENSOR_FIELDS for stat in ("mean", "min", "max", "std")]
    columns = ["org_id", "compressor_id", "station_id", "hour_start", "n_readings",
               "n_running_minutes", *sensor_cols]  # fmt: skip
    statuses = ("healthy",) * 17 + ("warning", "critical", "healthy")
    rows = 0
    with psycopg.connect(owner_url.replace("+psycopg", "")) as conn:
        with conn.cursor().copy(
            f"COPY hourly_aggregates ({', '.join(columns)}) FROM STDIN"
        ) as copy:
            for i, cid in enumerate(seeded.compressor_ids):
                station = f"ST-{i % stations:03d}"
                for h, hour in enumerate(hours):
                    wobble = 1 + 0.01 * ((i + h) % 7)
                    values = []
                    for name in SENSOR_FIELDS:
                        v = base[name] * wobble
                        values += [v, v * 0.98, v * 1.02, 0.5]
                    copy.write_row([ORG_ID, cid, station, hour, 3600, 60, *values])
                    rows += 1
        with conn.cursor().copy(
            "COPY compressor_status (org_id, compressor_id, station_id, as_of, operating_state, "
            "status, health_score, open_warning, open_critical, updated_at, "
            + ", ".join(f"{n}_mean" for n in SENSOR_FIELDS)
            + ") FROM STDIN"
        ) as copy:
            for i, cid in enumerate(seeded.compressor_ids):
                status = statuses[i % len(statuses)]
                copy.write_row([ORG_ID, cid, f"ST-{i % stations:03d}", utc_now(), "running",
                                status, 80, int(status == "warning"),
                                int(status == "critical"), utc_now(),
                                *(base[n] for n in SENSOR_FIELDS)])  # fmt: skip
        conn.commit()
        conn.execute("ANALYZE")  # planner statistics, as autovacuum would have them
    return rows
