"""Organisations, memberships and invitations.

An invitation only ever *adds* a membership in the inviting org: the invitee's
memberships elsewhere are never read for writing, changed or removed.
"""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from hub.db.base import as_utc, utc_now
from hub.db.models import Organization
from hub.portal.audit import service as audit
from hub.portal.auth.errors import InvalidLink
from hub.portal.auth.models import User
from hub.portal.billing import gates
from hub.portal.errors import Conflict, Forbidden, NotFound
from hub.portal.orgs.models import Invitation, Membership
from hub.portal.security import new_id, new_secret, sha256_hex
from hub.portal.tenancy import OrgScope, Role, set_db_scope


def organisations_of(*, session: Session, user_id: str) -> list[tuple[Organization, Role]]:
    """The user's organisations and their role in each ("my orgs")."""
    rows = session.execute(
        select(Organization, Membership.role)
        .join(Membership, Membership.org_id == Organization.id)
        .where(Membership.user_id == user_id)
        .order_by(Organization.name)
    ).all()
    return [(org, Role(role)) for org, role in rows]


def get_membership(*, session: Session, org_id: str, user_id: str) -> Membership | None:
    return session.get(Membership, (org_id, user_id))


def get_org(*, session: Session, org_id: str) -> Organization:
    org = session.get(Organization, org_id)
    if org is None:
        raise NotFound("No such organisation.")
    return org


def create_org(*, session: Session, org_id: str, name: str, owner: User) -> Organization:
    set_db_scope(session, org_id=org_id, user_id=owner.id)
    org = Organization(id=org_id, name=name, plan="pilot")
    session.add(org)
    session.flush()
    session.add(Membership(org_id=org_id, user_id=owner.id, role=Role.owner.value))
    session.flush()
    audit.record(
        session=session, action="org.created", org_id=org_id, actor_user_id=owner.id,
        actor_email=owner.email, target=org_id,
    )  # fmt: skip
    return org


def create_personal_org(*, session: Session, user: User) -> Organization:
    """Every user belongs to at least one org: a first-time provider sign-in gets their own."""
    slug = re.sub(r"[^a-z0-9]+", "-", user.email.split("@")[0].lower()).strip("-")[:40] or "org"
    org_id = f"{slug}-{new_id()[:8]}"
    return create_org(
        session=session, org_id=org_id, name=f"{user.name}'s organisation", owner=user
    )


def update_org(*, session: Session, scope: OrgScope, name: str) -> Organization:
    org = get_org(session=session, org_id=scope.org_id)
    org.name = name
    audit.record(
        session=session, action="org.updated", org_id=scope.org_id, actor_user_id=scope.user_id,
        target=scope.org_id, detail={"name": name},
    )  # fmt: skip
    session.flush()
    return org


def delete_org(*, session: Session, scope: OrgScope) -> None:
    org = get_org(session=session, org_id=scope.org_id)
    # Kept without an org id, so the trail survives the org's rows (cascade-deleted).
    audit.record(
        session=session, action="org.deleted", actor_user_id=scope.user_id,
        target=scope.org_id, detail={"name": org.name},
    )  # fmt: skip
    session.delete(org)
    session.flush()


# -- members --------------------------------------------------------------------


def list_members(*, session: Session, org_id: str) -> list[tuple[Membership, User]]:
    rows = session.execute(
        select(Membership, User)
        .join(User, User.id == Membership.user_id)
        .where(Membership.org_id == org_id)
        .order_by(User.email)
    ).all()
    return [(m, u) for m, u in rows]


def _owners(session: Session, org_id: str) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Membership)
            .where(Membership.org_id == org_id, Membership.role == Role.owner.value)
        )
        or 0
    )


def _member_or_404(session: Session, org_id: str, user_id: str) -> Membership:
    membership = get_membership(session=session, org_id=org_id, user_id=user_id)
    if membership is None:
        raise NotFound("No such member.")
    return membership


def _check_can_grant(scope: OrgScope, role: Role) -> None:
    # Admins manage the team, but only an owner makes or unmakes owners.
    if role is Role.owner and scope.role is not Role.owner:
        raise Forbidden("Only an owner can grant the owner role.")


def change_role(*, session: Session, scope: OrgScope, user_id: str, role: Role) -> Membership:
    membership = _member_or_404(session, scope.org_id, user_id)
    current = Role(membership.role)
    _check_can_grant(scope, role)
    _check_can_grant(scope, current)
    if current is Role.owner and role is not Role.owner and _owners(session, scope.org_id) <= 1:
        raise Conflict("An organisation needs at least one owner.")
    membership.role = role.value
    audit.record(
        session=session, action="member.role_changed", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=user_id,
        detail={"from": current.value, "to": role.value},
    )  # fmt: skip
    session.flush()
    return membership


def remove_member(*, session: Session, scope: OrgScope, user_id: str) -> None:
    membership = _member_or_404(session, scope.org_id, user_id)
    role = Role(membership.role)
    _check_can_grant(scope, role)
    if role is Role.owner and _owners(session, scope.org_id) <= 1:
        raise Conflict("An organisation needs at least one owner.")
    session.delete(membership)
    audit.record(
        session=session, action="member.removed", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=user_id, detail={"role": role.value},
    )  # fmt: skip
    session.flush()


# -- invitations ------------------------------------------------------------------


def invite(
    *, session: Session, scope: OrgScope, email: str, role: Role, days: float
) -> tuple[Invitation, str]:
    _check_can_grant(scope, role)
    email = email.strip().lower()
    get_org(session=session, org_id=scope.org_id)
    gates.require_within(session=session, org_id=scope.org_id, what="members")
    if any(u.email == email for _, u in list_members(session=session, org_id=scope.org_id)):
        raise Conflict("That person is already a member.")
    token = new_secret()
    invitation = Invitation(
        org_id=scope.org_id,
        id=new_id(),
        email=email,
        role=role.value,
        token_hash=sha256_hex(token),
        invited_by=scope.user_id,
        expires_at=utc_now() + timedelta(days=days),
    )
    session.add(invitation)
    audit.record(
        session=session, action="invitation.created", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=email, detail={"role": role.value},
    )  # fmt: skip
    session.flush()
    return invitation, token


def list_invitations(*, session: Session, org_id: str) -> list[Invitation]:
    return list(
        session.scalars(
            select(Invitation)
            .where(Invitation.org_id == org_id)
            .order_by(Invitation.created_at.desc())
        ).all()
    )


def revoke_invitation(*, session: Session, scope: OrgScope, invitation_id: str) -> Invitation:
    invitation = session.get(Invitation, (scope.org_id, invitation_id))
    if invitation is None:
        raise NotFound("No such invitation.")
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = utc_now()
        audit.record(
            session=session, action="invitation.revoked", org_id=scope.org_id,
            actor_user_id=scope.user_id, target=invitation.email,
        )  # fmt: skip
    session.flush()
    return invitation


def find_invitation(*, session: Session, token: str) -> Invitation:

    token_hash = sha256_hex(token[:200])
    set_db_scope(session, invite_hash=token_hash)
    invitation = session.scalar(select(Invitation).where(Invitation.token_hash == token_hash))
    if (
        invitation is None
        or invitation.accepted_at is not None
        or invitation.revoked_at is not None
        or as_utc(invitation.expires_at) <= utc_now()
    ):
        raise InvalidLink()
    return invitation


def accept_invitation(*, session: Session, token: str, user: User) -> Membership:
    """Join the inviting org as the signed-in user, whose address the invitation names.

    An existing membership in this org keeps its role; other orgs are not touched.
    """
    invitation = find_invitation(session=session, token=token)
    if invitation.email != user.email:
        raise Forbidden("This invitation was sent to another e-mail address.")
    set_db_scope(session, org_id=invitation.org_id, user_id=user.id)
    membership = get_membership(session=session, org_id=invitation.org_id, user_id=user.id)
    if membership is None:
        gates.require_within(session=session, org_id=invitation.org_id, what="members")
        membership = Membership(org_id=invitation.org_id, user_id=user.id, role=invitation.role)
        session.add(membership)
    invitation.accepted_at = utc_now()
    audit.record(
        session=session, action="invitation.accepted", org_id=invitation.org_id,
        actor_user_id=user.id, actor_email=user.email, target=user.email,
        detail={"role": membership.role},
    )  # fmt: skip
    session.flush()
    return membership


def invitation_org_name(*, session: Session, invitation: Invitation) -> str:
    """The inviting org's name, read in that org's scope (the invitee is not a member yet)."""
    set_db_scope(session, org_id=invitation.org_id)
    org = session.get(Organization, invitation.org_id)
    return org.name if org else invitation.org_id
