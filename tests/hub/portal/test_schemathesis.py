"""schemathesis against the OpenAPI document, authenticated: no 5xx, no schema violations."""

from __future__ import annotations

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)

from hub.portal.tenancy import Role
from tests.hub.portal.conftest import PortalDb
from tests.hub.portal.factories import make_member, make_org, make_token
from tests.support.tenants import seed_org_b_objects

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

not_a_server_error = schemathesis.checks.not_a_server_error
EXAMPLES = 20


@pytest.fixture(scope="module")
def target(portal_db: PortalDb) -> tuple[str, dict[str, str]]:
    """An admin's token (owner-only operations such as deleting the org are refused, nearly
    everything else runs for real) and ids of real objects in the admin's org."""
    org = make_org(portal_db.owner, stations=3, plan="enterprise")
    owner = make_member(portal_db.owner, org.org_id, Role.owner)
    admin = make_member(portal_db.owner, org.org_id, Role.admin)
    objects = {**seed_org_b_objects(portal_db.owner, org, owner), "org_id": org.org_id}
    return make_token(portal_db.owner, admin), objects


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
]


def _operations(app: FastAPI) -> list:  # type: ignore[type-arg]
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    return [result.ok() for result in schema.get_all_operations()]


def test_api_conforms_to_its_openapi_document(
    portal_app: FastAPI, target: tuple[str, dict[str, str]]
) -> None:
    token, objects = target
    operations = _operations(portal_app)
    assert len(operations) >= 20
    statuses: list[int] = []
    for operation in operations:
        if operation.path.endswith("/stripe-webhook"):
            continue  # authenticated by a Stripe signature, tested in test_billing

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        def run(case) -> None:  # type: ignore[no-untyped-def]
            # The admin's org always, and real object ids about half the time, so handlers
            # do their work rather than only answering 404.
            for name, value in objects.items():
                current = (case.path_parameters or {}).get(name)
                if current is not None and (name == "org_id" or len(str(current)) % 2 == 0):
                    case.path_parameters[name] = value
            response = case.call_and_validate(
                headers={"Authorization": f"Bearer {token}"}, checks=CHECKS
            )
            statuses.append(response.status_code)

        run()
    # Not only refusals: a good share of the generated requests did real work.
    assert sum(200 <= s < 300 for s in statuses) > len(operations), sorted(set(statuses))
    print(f"schemathesis: {len(statuses)} requests, statuses {sorted(set(statuses))}")
