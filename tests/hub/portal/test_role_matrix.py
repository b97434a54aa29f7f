"""Every role x every action: view = viewer+, alerts = operator+, stations/tokens/team/audit =
admin+, billing and deleting the org = owner. Each case runs in its own org."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from hub.portal.auth.permissions import ALL_PERMISSIONS
from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import OrgData, make_member, make_org, make_token
from tests.support.tenants import serving_objects

pytestmark = pytest.mark.postgres


@dataclass(frozen=True)
class Action:
    permission: str
    method: str
    path: Callable[[OrgData, dict[str, str]], str]
    body: Callable[[OrgData], Any] | None = None


ACTIONS = [
    Action("view", "GET", lambda o, x: f"/api/v1/orgs/{o.org_id}/stations"),
    Action("view", "GET", lambda o, x: f"/api/v1/orgs/{o.org_id}/compressors"),
    Action("view", "GET", lambda o, x: f"/api/v1/orgs/{o.org_id}/members"),
    Action(
        "stations.manage",
        "POST",
        lambda o, x: f"/api/v1/orgs/{o.org_id}/stations",
        lambda o: {"id": "NEW-STATION", "name": "New", "latitude": 31.0, "longitude": -100.0},
    ),
    Action(
        "stations.manage",
        "PATCH",
        lambda o, x: f"/api/v1/orgs/{o.org_id}/stations/{o.station_ids[0]}",
        lambda o: {"name": "Renamed"},
    ),
    Action(
        "stations.manage",
        "POST",
        lambda o, x: f"/api/v1/orgs/{o.org_id}/stations/{o.station_ids[0]}/mqtt-credentials",
    ),
    Action(
        "tokens.manage",
        "POST",
        lambda o, x: f"/api/v1/orgs/{o.org_id}/tokens",
        lambda o: {"name": "ci"},
    ),
    Action("tokens.manage", "GET", lambda o, x: f"/api/v1/orgs/{o.org_id}/tokens"),
    Action(
        "team.manage",
        "POST",
        lambda o, x: f"/api/v1/orgs/{o.org_id}/invitations",
        lambda o: {"email": "new.person@example.com", "role": "viewer"},
    ),
    Action(
        "team.manage",
        "PATCH",
        lambda o, x: f"/api/v1/orgs/{o.org_id}",
        lambda o: {"name": "Renamed org"},
    ),
    Action("audit.view", "GET", lambda o, x: f"/api/v1/orgs/{o.org_id}/audit"),
    Action(
        "workflows.manage",
        "POST",
        lambda o, x: f"/api/v1/orgs/{o.org_id}/workflows/rules",
        lambda o: {
            "name": "Hot discharge",
            "sensor": "discharge_temp_f",
            "comparison": ">",
            "value": 300.0,
            "for_min": 10,
            "severity": "critical",
        },
    ),
    Action(
        "workflows.manage", "GET", lambda o, x: f"/api/v1/orgs/{o.org_id}/workflows/notifications"
    ),
    Action("billing.manage", "GET", lambda o, x: f"/api/v1/orgs/{o.org_id}/billing"),
    Action("org.delete", "DELETE", lambda o, x: f"/api/v1/orgs/{o.org_id}"),
]
#: Filled in by the alert tests' seeding once the serving tables exist (see serving_objects).
ALERT_ACTIONS = [
    Action("alerts.work", "POST",
           lambda o, x: f"/api/v1/orgs/{o.org_id}/alerts/{x['alert_id']}/acknowledge",
           lambda o: {"note": "on it"}),
    Action("alerts.work", "POST",
           lambda o, x: f"/api/v1/orgs/{o.org_id}/alerts/{x['alert_id']}/resolve",
           lambda o: {"note": "replaced the valve"}),
]  # fmt: skip

#: The issue's table, independent of the code under test.
LEAST_ROLE = {
    "view": Role.viewer,
    "alerts.work": Role.operator,
    "stations.manage": Role.admin,
    "tokens.manage": Role.admin,
    "team.manage": Role.admin,
    "audit.view": Role.admin,
    "workflows.manage": Role.admin,
    "billing.manage": Role.owner,
    "org.delete": Role.owner,
}


def test_permission_objects_match_the_role_table() -> None:
    assert {p.action: p.min_role for p in ALL_PERMISSIONS} == LEAST_ROLE


def _cases() -> list[Any]:
    actions = ACTIONS + ALERT_ACTIONS
    return [
        pytest.param(role, action, id=f"{role.value}-{action.method}-{i}-{action.permission}")
        for i, action in enumerate(actions)
        for role in Role
    ]


@pytest.mark.parametrize(("role", "action"), _cases())
def test_role_matrix(portal_app: FastAPI, portal_db: PortalDb, role: Role, action: Action) -> None:
    org = make_org(portal_db.owner, stations=1, compressors_per_station=1)
    extra = serving_objects(portal_db.owner, org)
    if role is not Role.owner:
        make_member(portal_db.owner, org.org_id, Role.owner, password=None)
    member = make_member(portal_db.owner, org.org_id, role, password=None)
    token = make_token(portal_db.owner, member)
    client = TestClient(portal_app, headers={"authorization": f"Bearer {token}"})
    response = client.request(
        action.method, action.path(org, extra), json=action.body(org) if action.body else None
    )
    if role.at_least(LEAST_ROLE[action.permission]):
        assert 200 <= response.status_code < 300, response.text[:300]
    else:
        assert response.status_code == 403, response.text[:300]
        assert response.json()["error"]["code"] == "forbidden"
