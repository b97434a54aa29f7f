"""A member of org A asking for org B's objects gets 404 or 403, never data.

Generated over every operation in the OpenAPI document, so a new route is covered
the day it is added; plus raw queries under org A's database scope (RLS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import inspect, text

from hub.db.base import Base
from hub.db.session import session_scope
from hub.portal.tenancy import Role, set_db_scope
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import (
    Browser,
    OrgData,
    make_member,
    make_org,
    make_token,
)
from tests.support.openapi import example_body
from tests.support.tenants import seed_org_b_objects

pytestmark = pytest.mark.postgres

ALLOWED = {403, 404}
PARAM = re.compile(r"{(\w+)}")


@dataclass
class Tenants:
    a: OrgData
    b: OrgData
    b_objects: dict[str, str]  # path parameter name -> an id that exists only in org B
    browser: Browser  # org A's owner, signed in
    a_token: str  # org A's owner's API token
    b_secrets: list[str]  # strings that must never appear in a response to A


@pytest.fixture(scope="module")
def tenants(portal_app: FastAPI, portal_db: PortalDb) -> Tenants:
    # Enterprise: every route is in the plan, so a plan gate never answers before tenancy.
    a = make_org(portal_db.owner, stations=4, plan="enterprise")
    b = make_org(portal_db.owner, stations=4, plan="enterprise")
    owner_a = make_member(portal_db.owner, a.org_id, Role.owner)
    owner_b = make_member(portal_db.owner, b.org_id, Role.owner)
    b_objects = seed_org_b_objects(portal_db.owner, b, owner_b)
    return Tenants(
        a=a,
        b=b,
        b_objects=b_objects,
        browser=Browser(portal_app).login(owner_a.email),
        a_token=make_token(portal_db.owner, owner_a),
        b_secrets=[b.name, owner_b.email, *b.station_ids, *b.compressor_ids],
    )


def _operations(app: FastAPI) -> list[tuple[str, str, object]]:
    """(method, path, a valid example body) for every operation in the OpenAPI document."""
    document = app.openapi()
    ops = []
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                ops.append((method.upper(), path, example_body(document, operation)))
    return sorted(ops, key=lambda op: (op[1], op[0]))


def _fill(path: str, org_id: str, objects: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "org_id":
            return org_id
        assert name in objects, f"no org-B object for path parameter {name!r} in {path}"
        return objects[name]

    return PARAM.sub(value, path)


def _check(response, tenants: Tenants, what: str) -> None:  # type: ignore[no-untyped-def]
    assert response.status_code in ALLOWED, f"{what}: {response.status_code} {response.text[:300]}"
    for secret in tenants.b_secrets:
        assert secret not in response.text, f"{what}: leaked {secret!r}"


def test_openapi_document_has_org_scoped_routes(portal_app: FastAPI) -> None:
    scoped = [p for _, p, _ in _operations(portal_app) if "{org_id}" in p]
    assert len(scoped) >= 20


def test_every_route_refuses_another_orgs_objects(portal_app: FastAPI, tenants: Tenants) -> None:
    checked = 0
    for method, path, body in _operations(portal_app):
        if "{org_id}" not in path:
            continue
        variants = [_fill(path, tenants.b.org_id, tenants.b_objects)]
        if len(PARAM.findall(path)) > 1:  # A's org in the URL, B's object after it
            variants.append(_fill(path, tenants.a.org_id, tenants.b_objects))
        for url in variants:
            as_session = tenants.browser.api(method, url, json=body)
            _check(as_session, tenants, f"{method} {url} (session)")
            as_token = tenants.browser.client.request(
                method, url, json=body, headers={"authorization": f"Bearer {tenants.a_token}"},
                cookies={},
            )  # fmt: skip
            _check(as_token, tenants, f"{method} {url} (token)")
            checked += 1
    assert checked >= 20


def test_pages_refuse_another_org(portal_app: FastAPI, tenants: Tenants) -> None:
    for route in portal_app.routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", set()) or set()
        if not path.startswith("/o/{org_id}") or "GET" not in methods:
            continue
        for url in {
            _fill(path, tenants.b.org_id, tenants.b_objects),
            _fill(path, tenants.a.org_id, tenants.b_objects),
        }:
            if url.startswith(f"/o/{tenants.a.org_id}") and "{" not in path.replace("{org_id}", ""):
                continue  # A's own page without an object id: allowed, and it is A's data
            _check(tenants.browser.client.get(url), tenants, f"GET {url}")


def test_my_orgs_lists_only_my_orgs(tenants: Tenants) -> None:
    listed = tenants.browser.api("GET", "/api/v1/me").json()
    assert [o["id"] for o in listed] == [tenants.a.org_id]


def _org_scoped_tables() -> list[str]:
    return sorted(table.name for table in Base.metadata.sorted_tables if "org_id" in table.columns)


def test_raw_queries_under_org_a_see_no_org_b_rows(portal_db: PortalDb, tenants: Tenants) -> None:
    tables = _org_scoped_tables()
    assert {"stations", "memberships", "api_tokens", "audit_log", "invitations"} <= set(tables)
    with session_scope(portal_db.owner) as session:  # the superuser sees B's rows exist
        for table in ("stations", "memberships", "api_tokens", "invitations"):
            count = session.execute(
                text(f'SELECT count(*) FROM "{table}" WHERE org_id = :b'), {"b": tenants.b.org_id}
            ).scalar_one()
            assert count > 0, table
    with session_scope(portal_db.app, org_id=tenants.a.org_id) as session:
        for table in tables:
            rows = session.execute(
                text(f'SELECT org_id FROM "{table}" WHERE org_id IS DISTINCT FROM :a'),
                {"a": tenants.a.org_id},
            ).all()
            assert rows == [], f"{table}: org A's scope sees {rows[:3]}"
        orgs = session.execute(text("SELECT id FROM organizations")).scalars().all()
        assert orgs == [tenants.a.org_id]
        emails = session.execute(text("SELECT email FROM users")).scalars().all()
        assert emails and all(e not in tenants.b_secrets for e in emails)


def test_every_table_has_row_level_security(portal_db: PortalDb) -> None:
    names = set(inspect(portal_db.owner).get_table_names()) - {"alembic_version"}
    with session_scope(portal_db.owner) as session:
        forced = set(
            session.execute(
                text(
                    "SELECT relname FROM pg_class WHERE relkind = 'r' AND relrowsecurity "
                    "AND relforcerowsecurity AND relnamespace = 'public'::regnamespace"
                )
            ).scalars()
        )
    assert names - forced == set(), "tables without forced row-level security"


def test_writes_into_another_org_are_refused_by_the_database(
    portal_db: PortalDb, tenants: Tenants
) -> None:
    with (
        pytest.raises(Exception, match="row-level security"),
        session_scope(portal_db.app, org_id=tenants.a.org_id) as session,
    ):
        set_db_scope(session, org_id=tenants.a.org_id)
        session.execute(
            text("INSERT INTO memberships (org_id, user_id, role, created_at) "
                 "VALUES (:b, :u, 'owner', now())"),
            {"b": tenants.b.org_id, "u": "0" * 32},
        )  # fmt: skip
