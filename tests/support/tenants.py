"""Seed one of every portal object in an org (cross-tenant tests need B's ids)."""

from __future__ import annotations

from sqlalchemy import Engine

from hub.db.session import session_scope
from hub.portal.fleet import service as fleet
from hub.portal.orgs import service as orgs
from hub.portal.tenancy import OrgScope, Role, set_db_scope
from hub.portal.tokens import service as tokens


def seed_org_b_objects(engine: Engine, org, owner) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Objects of every kind in `org`; returns path parameter name -> id."""
    scope = OrgScope(org_id=org.org_id, user_id=owner.user_id, role=Role.owner)
    with session_scope(engine, org_id=org.org_id) as session:
        set_db_scope(session, user_id=owner.user_id)
        token, _ = tokens.create(session=session, scope=scope, name="b-token", expires_in_days=None)
        invitation, _ = orgs.invite(
            session=session, scope=scope, email="invitee@example.com", role=Role.viewer, days=7
        )
        fleet.rotate_credential(session=session, scope=scope, station_id=org.station_ids[0])
        ids = {
            "station_id": org.station_ids[0],
            "compressor_id": org.compressor_ids[0],
            "token_id": token.id,
            "invitation_id": invitation.id,
            "user_id": owner.user_id,
        }
    ids.update(serving_objects(engine, org))
    from tests.support.workflows import seed_workflow_objects

    ids.update(seed_workflow_objects(engine, org))
    return ids


def serving_objects(engine: Engine, org) -> dict[str, str]:  # type: ignore[no-untyped-def]
    """Ids of telemetry-side objects (alerts) of `org`, seeded in the serving tables."""
    from tests.support.telemetry import seed_alert

    return {"alert_id": seed_alert(engine, org)}
