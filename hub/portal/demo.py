"""The portal inside `altaviz demo`: a demo organisation from config/fleet.yaml, a demo
sign-in, and the app served on 127.0.0.1:8000 in a background thread."""

from __future__ import annotations

import logging
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from sqlalchemy import Engine, select

from hub.db.migrate import upgrade
from hub.db.models import Compressor, Organization, Station
from hub.db.session import make_engine, session_scope
from hub.portal.app import create_app
from hub.portal.auth import service as auth
from hub.portal.orgs.models import Membership
from hub.portal.tenancy import Role, set_db_scope
from hub.settings import HubSettings
from shared.fleet import DEFAULT_FLEET_PATH, load_fleet

log = logging.getLogger(__name__)

DEMO_EMAIL = "operator@lonestar.example"
#: Development mode only (the demo): printed with the URL; a real portal never has one.
DEMO_PASSWORD = "altaviz-demo-2026"


@dataclass
class DemoPortal:
    url: str
    email: str
    password: str
    org_id: str
    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


def seed_demo(engine: Engine, fleet_path: Path = DEFAULT_FLEET_PATH) -> str:
    """The fleet file's first organisation, its stations and compressors, and the demo user
    as its operator; idempotent (a second run finds them)."""
    org_spec = load_fleet(fleet_path).organisations[0]
    with session_scope(engine, org_id=org_spec.id) as session:
        org = session.get(Organization, org_spec.id)
        if org is None:
            org = Organization(id=org_spec.id, name=org_spec.name)
            session.add(org)
        org.plan = "operations"  # the demo shows the ML features (RUL, drift, rollout)
        session.flush()
        for station in org_spec.stations:
            if session.get(Station, (org_spec.id, station.id)) is None:
                session.add(
                    Station(org_id=org_spec.id, id=station.id, name=station.name,
                            basin=station.basin, latitude=station.latitude,
                            longitude=station.longitude)
                )  # fmt: skip
                session.flush()
            for unit in station.compressors:
                if session.get(Compressor, (org_spec.id, unit.id)) is None:
                    session.add(
                        Compressor(org_id=org_spec.id, id=unit.id, station_id=station.id,
                                   model=f"{unit.make} {unit.model}",
                                   driver=f"{unit.driver.make} {unit.driver.model}",
                                   rated_hp=unit.rated_hp, stages=unit.stages)
                    )  # fmt: skip
        user = auth.get_user_by_email(session=session, email=DEMO_EMAIL) or auth.create_user(
            session=session, email=DEMO_EMAIL, name="Demo Operator", password=DEMO_PASSWORD
        )
        set_db_scope(session, user_id=user.id, org_id=org_spec.id)
        exists = session.scalar(
            select(Membership).where(
                Membership.org_id == org_spec.id, Membership.user_id == user.id
            )
        )
        if exists is None:
            session.add(Membership(org_id=org_spec.id, user_id=user.id, role=Role.owner.value))
    return org_spec.id


def _port_free(host: str, port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((host, port)) != 0


def start_demo_portal(settings: HubSettings, *, port: int = 8000) -> DemoPortal:
    host = "127.0.0.1"
    if not _port_free(host, port):
        with socket.socket() as sock:
            sock.bind((host, 0))
            port = int(sock.getsockname()[1])
    base_url = f"http://{host}:{port}"
    settings = settings.model_copy(
        update={"portal": settings.portal.model_copy(update={"base_url": base_url})}
    )
    upgrade(settings.database_url)
    engine = make_engine(settings.database_url)
    org_id = seed_demo(engine)
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine=engine), host=host, port=port,
                       log_level="warning", lifespan="off")
    )  # fmt: skip
    thread = threading.Thread(target=server.run, name="portal", daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started and time.monotonic() < deadline and thread.is_alive():
        time.sleep(0.05)
    return DemoPortal(base_url, DEMO_EMAIL, DEMO_PASSWORD, org_id, server, thread)
