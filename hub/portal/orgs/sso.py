"""Organisation SSO: an org on a plan with SSO names its directory (an Entra tenant or a
Google Workspace domain), may require its members to sign in through it, and may let
the directory's users join just in time with a default role.

Owners are exempt (break-glass: a misconfigured directory cannot lock the org out), and
API tokens are machine access. Removing someone from the directory is enough: they can no longer sign in through it,
and an org that requires its directory lets in only sessions opened through it, so they
lose access at their next sign-in (their current session ends within session_hours).
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.portal.audit import service as audit
from hub.portal.auth.models import User
from hub.portal.auth.oidc import ProviderIdentity
from hub.portal.billing import gates
from hub.portal.errors import Forbidden, PortalError
from hub.portal.orgs.models import Membership, OrgSso
from hub.portal.tenancy import OrgScope, Role, set_db_scope


def directory_key(provider: str, directory: str) -> str:
    return f"{provider}:{directory}"


def identity_directory(identity: ProviderIdentity) -> str | None:
    return directory_key(identity.provider, identity.tenant) if identity.tenant else None


def get(*, session: Session, org_id: str) -> OrgSso | None:
    return session.get(OrgSso, org_id)


def configure(
    *, session: Session, scope: OrgScope, provider: str, directory: str, required: bool,
    jit_role: Role | None,
) -> OrgSso:  # fmt: skip
    gates.require_feature(scope.org_id, "sso", session=session)
    if jit_role is not None and not scope.role.at_least(jit_role):
        raise Forbidden("You cannot give new members a role above your own.")
    found = get(session=session, org_id=scope.org_id) or OrgSso(org_id=scope.org_id)
    found.provider, found.directory, found.required = provider, directory.strip(), required
    found.jit_role = jit_role.value if jit_role else None
    session.merge(found)
    audit.record(
        session=session, action="org.sso_configured", org_id=scope.org_id,
        actor_user_id=scope.user_id,
        detail={"provider": provider, "directory": found.directory, "required": required,
                "jit_role": found.jit_role},
    )  # fmt: skip
    session.flush()
    return found


def remove(*, session: Session, scope: OrgScope) -> None:
    found = get(session=session, org_id=scope.org_id)
    if found is not None:
        session.delete(found)
        audit.record(
            session=session, action="org.sso_removed", org_id=scope.org_id,
            actor_user_id=scope.user_id,
        )  # fmt: skip
        session.flush()


def join_directory_orgs(*, session: Session, user: User, identity: ProviderIdentity) -> None:
    """Just-in-time membership in every org whose directory the provider vouched for."""
    directory = identity_directory(identity)
    if directory is None:
        return
    set_db_scope(session, login_directory=directory)
    configs = session.scalars(
        select(OrgSso).where(
            OrgSso.provider == identity.provider,
            OrgSso.directory == identity.tenant,
            OrgSso.jit_role.is_not(None),
        )
    ).all()
    for config in configs:
        set_db_scope(session, org_id=config.org_id, user_id=user.id)
        if session.get(Membership, (config.org_id, user.id)) is not None:
            continue
        try:
            gates.require_feature(config.org_id, "sso", session=session)
            gates.require_within(session=session, org_id=config.org_id, what="members")
        except PortalError as exc:
            audit.record(
                session=session, action="member.jit_refused", org_id=config.org_id,
                actor_user_id=user.id, actor_email=user.email, outcome="blocked",
                detail={"reason": exc.message[:200]},
            )  # fmt: skip
            continue
        session.add(Membership(org_id=config.org_id, user_id=user.id, role=config.jit_role))
        audit.record(
            session=session, action="member.jit_joined", org_id=config.org_id,
            actor_user_id=user.id, actor_email=user.email, target=user.email,
            detail={"role": config.jit_role, "directory": directory},
        )  # fmt: skip
        session.flush()


def check_session(*, session: Session, org_id: str, sso_directory: str | None) -> None:
    """403 when the org requires its directory and the session was not opened through it."""
    config = get(session=session, org_id=org_id)
    if config is None or not config.required:
        return
    if not gates.standing(session=session, org_id=org_id).plan.includes("sso"):
        return  # the plan no longer has SSO: the requirement is not in force
    if sso_directory != directory_key(config.provider, config.directory):
        raise SsoRequired()


class SsoRequired(Forbidden):
    """This organisation requires signing in through its directory (use its sign-in button)."""

    code = "sso_required"
