"""Factories for portal test data: organisations with stations, members, tokens, sessions."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import Engine

from hub.db.models import Compressor, Organization, Station
from hub.db.session import session_scope
from hub.portal.auth import service as auth
from hub.portal.orgs.models import Membership
from hub.portal.tenancy import OrgScope, Role
from hub.portal.tokens import service as tokens

PASSWORD = "correct-horse-battery"

TEXAS_STATIONS = [
    ("PERMIAN-1", "Midland Gathering", "Permian", 31.997, -102.078),
    ("EAGLEFORD-1", "Karnes City", "Eagle Ford", 28.885, -97.901),
    ("HAYNESVILLE-1", "Carthage", "Haynesville", 32.157, -94.337),
    ("BARNETT-1", "Decatur", "Barnett", 33.234, -97.586),
]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


@dataclass
class OrgData:
    org_id: str
    name: str
    station_ids: list[str] = field(default_factory=list)
    compressor_ids: list[str] = field(default_factory=list)


def make_org(
    engine: Engine,
    *,
    org_id: str | None = None,
    stations: int = 2,
    compressors_per_station: int = 2,
    plan: str = "pilot",
) -> OrgData:
    """An org with stations in Texas and compressors; ids are unique to this org."""
    org_id = org_id or unique("org")
    data = OrgData(org_id=org_id, name=f"Org {org_id}")
    tag = org_id.split("-")[-1][:6].upper()
    with session_scope(engine, org_id=org_id) as session:
        session.add(Organization(id=org_id, name=data.name, plan=plan))
        session.flush()
        for i in range(stations):
            sid, name, basin, lat, lon = TEXAS_STATIONS[i % len(TEXAS_STATIONS)]
            station_id = f"{sid}-{tag}" if i < len(TEXAS_STATIONS) else f"ST{i}-{tag}"
            session.add(
                Station(org_id=org_id, id=station_id, name=name, basin=basin,
                        latitude=lat, longitude=lon)
            )  # fmt: skip
            session.flush()
            data.station_ids.append(station_id)
            for j in range(compressors_per_station):
                compressor_id = f"{station_id}-C{j + 1:02d}"
                session.add(
                    Compressor(org_id=org_id, id=compressor_id, station_id=station_id,
                               model="Ariel JGK/4", driver="Caterpillar G3516", rated_hp=1380,
                               stages=2)
                )  # fmt: skip
                data.compressor_ids.append(compressor_id)
    return data


@dataclass
class Member:
    user_id: str
    email: str
    org_id: str
    role: Role
    password: str | None


def make_member(
    engine: Engine,
    org_id: str,
    role: Role = Role.viewer,
    *,
    email: str | None = None,
    password: str | None = PASSWORD,
) -> Member:
    email = email or f"{unique('user')}@example.com"
    with session_scope(engine) as session:
        user = auth.get_user_by_email(session=session, email=email) or auth.create_user(
            session=session, email=email, name=email.split("@")[0], password=password
        )
        from hub.portal.tenancy import set_db_scope

        set_db_scope(session, org_id=org_id, user_id=user.id)
        session.add(Membership(org_id=org_id, user_id=user.id, role=role.value))
        user_id = user.id
    return Member(user_id=user_id, email=email, org_id=org_id, role=role, password=password)


def make_token(engine: Engine, member: Member) -> str:
    with session_scope(engine, org_id=member.org_id) as session:
        from hub.portal.tenancy import set_db_scope

        set_db_scope(session, user_id=member.user_id)
        scope = OrgScope(org_id=member.org_id, user_id=member.user_id, role=member.role)
        _, secret = tokens.create(session=session, scope=scope, name="test", expires_in_days=None)
    return secret


def new_address() -> str:
    """A client address no other test uses (the per-address sign-in limit spans the run)."""
    octets = uuid.uuid4().bytes[:3]
    return "10." + ".".join(str(octet) for octet in octets)


_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    found = _CSRF.search(html)
    assert found, "no csrf_token field on the page"
    return found.group(1)


class Browser:
    """A TestClient signed in through the login form, with the session's CSRF token."""

    def __init__(self, app: FastAPI) -> None:
        # Each browser its own address: the per-address sign-in limit spans the whole run.
        self.client = TestClient(app, raise_server_exceptions=False, client=(new_address(), 50000))
        self.csrf = ""

    def login(self, email: str, password: str = PASSWORD) -> Browser:
        token = csrf_from(self.client.get("/login").text)
        response = self.client.post(
            "/login",
            data={"email": email, "password": password, "csrf_token": token},
            follow_redirects=False,
        )
        assert response.status_code == 303, response.text[:500]
        self.csrf = csrf_from(self.client.get("/account").text)
        return self

    def api(self, method: str, path: str, **kwargs):  # type: ignore[no-untyped-def]
        headers = {"x-csrf-token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, path, headers=headers, **kwargs)
