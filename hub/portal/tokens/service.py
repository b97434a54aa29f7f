"""Personal API tokens: created for one org, shown once, stored as sha256, revocable."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import as_utc, utc_now
from hub.db.models import Organization
from hub.portal.audit import service as audit
from hub.portal.auth.models import User
from hub.portal.auth.service import Caller, caller_orgs
from hub.portal.billing import gates
from hub.portal.errors import NotFound
from hub.portal.orgs.models import Membership
from hub.portal.security import new_id, new_secret, sha256_hex
from hub.portal.tenancy import OrgScope, set_db_scope
from hub.portal.tokens.models import ApiToken

TOKEN_PREFIX = "avz_"


def create(
    *, session: Session, scope: OrgScope, name: str, expires_in_days: int | None
) -> tuple[ApiToken, str]:
    gates.require_within(session=session, org_id=scope.org_id, what="api_tokens")
    secret = TOKEN_PREFIX + new_secret()
    token = ApiToken(
        org_id=scope.org_id,
        id=new_id(),
        user_id=scope.user_id,
        name=name,
        token_hash=sha256_hex(secret),
        prefix=secret[:12],
        created_at=utc_now(),
        expires_at=utc_now() + timedelta(days=expires_in_days) if expires_in_days else None,
    )
    session.add(token)
    audit.record(
        session=session, action="token.created", org_id=scope.org_id,
        actor_user_id=scope.user_id, target=token.id, detail={"name": name},
    )  # fmt: skip
    session.flush()
    return token, secret


def list_for_org(*, session: Session, org_id: str) -> list[ApiToken]:
    return list(
        session.scalars(
            select(ApiToken).where(ApiToken.org_id == org_id).order_by(ApiToken.created_at.desc())
        ).all()
    )


def get(*, session: Session, org_id: str, token_id: str) -> ApiToken | None:
    return session.get(ApiToken, (org_id, token_id))


def revoke(*, session: Session, scope: OrgScope, token_id: str) -> ApiToken:
    token = get(session=session, org_id=scope.org_id, token_id=token_id)
    if token is None:
        raise NotFound("No such token.")
    if token.revoked_at is None:
        token.revoked_at = utc_now()
        audit.record(
            session=session, action="token.revoked", org_id=scope.org_id,
            actor_user_id=scope.user_id, target=token.id, detail={"name": token.name},
        )  # fmt: skip
    session.flush()
    return token


def authenticate(*, session: Session, secret: str) -> tuple[ApiToken, Caller] | None:
    """The live token for a presented secret and its user (with its one org), or None."""
    if not secret.startswith(TOKEN_PREFIX) or len(secret) > 200:
        return None
    token_hash = sha256_hex(secret)
    set_db_scope(session, token_hash=token_hash)
    row = session.execute(
        select(ApiToken, User, Membership.role, Organization)
        .join(User, User.id == ApiToken.user_id)
        .join(
            Membership,
            (Membership.user_id == ApiToken.user_id) & (Membership.org_id == ApiToken.org_id),
        )
        .join(Organization, Organization.id == ApiToken.org_id)
        .where(ApiToken.token_hash == token_hash)
    ).first()
    if row is None:
        return None
    token, user, role, org = row
    if token.revoked_at is not None or not user.is_active:
        return None
    if token.expires_at is not None and as_utc(token.expires_at) <= utc_now():
        return None
    # A token acts only in its own org: that is its tenant scope from here on.
    set_db_scope(session, org_id=token.org_id)
    now = utc_now()
    # Coarse, so that a busy client does not turn every request into a write.
    if token.last_used_at is None or as_utc(token.last_used_at) < now - timedelta(minutes=5):
        token.last_used_at = now
    return token, Caller(user=user, orgs=caller_orgs([(role, org)]))
