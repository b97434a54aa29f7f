"""Provider sign-in: accounts are linked by (provider, subject), never by e-mail alone.

A first provider sign-in whose address belongs to an existing account needs proof of
that account (its password, or a link mailed to the address) and a provider that
asserted the address is verified; until then nothing is linked and nobody is signed in.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.portal.audit import service as audit
from hub.portal.auth import throttle
from hub.portal.auth.errors import InvalidCredentials, InvalidLink
from hub.portal.auth.models import OAuthIdentity, User
from hub.portal.auth.oidc import ProviderIdentity
from hub.portal.auth.service import create_user, get_user, get_user_by_email, normalise_email
from hub.portal.errors import Conflict
from hub.portal.tenancy import set_db_scope

log = logging.getLogger(__name__)


class LinkRequired(Conflict):
    """An account already uses this e-mail address: prove it is yours to link the two."""

    code = "link_required"

    def __init__(self, identity: ProviderIdentity) -> None:
        super().__init__()
        self.identity = identity


@dataclass(frozen=True)
class PendingLink:
    """A provider identity waiting for proof of the account that owns its address."""

    provider: str
    subject: str
    email: str
    name: str
    tenant: str | None

    @classmethod
    def of(cls, identity: ProviderIdentity) -> PendingLink:
        return cls(identity.provider, identity.subject, identity.email, identity.name,
                   identity.tenant)  # fmt: skip

    @classmethod
    def load(cls, data: Any) -> PendingLink | None:
        try:
            return cls(**{key: data[key] for key in cls.__dataclass_fields__})
        except (KeyError, TypeError):
            return None

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    def identity(self) -> ProviderIdentity:
        return ProviderIdentity(
            provider=self.provider, subject=self.subject, email=self.email,
            email_verified=True, name=self.name, tenant=self.tenant,
        )  # fmt: skip


def linked_user(*, session: Session, subject_key: str) -> User | None:
    set_db_scope(session, login_subject=subject_key)
    linked = session.scalar(select(OAuthIdentity).where(OAuthIdentity.subject_key == subject_key))
    return get_user(session=session, user_id=linked.user_id) if linked else None


def sign_in(
    *, session: Session, identity: ProviderIdentity, client_ip: str, signups_per_hour: int,
    trial_days: int | None = None,
) -> User:  # fmt: skip
    """The user linked to this provider account, or a new one; LinkRequired on an
    address that belongs to an account the provider account is not linked to."""
    user = linked_user(session=session, subject_key=identity.subject_key)
    if user is None:
        if get_user_by_email(session=session, email=identity.email) is not None:
            audit.record(
                session=session, action="auth.sso_link_required", actor_email=identity.email,
                outcome="blocked",
                detail={"provider": identity.provider, "verified": identity.email_verified},
            )  # fmt: skip
            raise LinkRequired(identity)
        throttle.check(
            session=session, kind="signup", email=normalise_email(identity.email),
            client_ip=client_ip, per_ip=signups_per_hour, per_account=signups_per_hour,
            window=timedelta(hours=1),
        )  # fmt: skip
        user = create_user(session=session, email=identity.email, name=identity.name)
        throttle.record(session=session, kind="signup", email=user.email, client_ip=client_ip)
        _link(session=session, user=user, identity=identity)
    return _signed_in(session=session, user=user, identity=identity, trial_days=trial_days)


def link_and_sign_in(*, session: Session, user: User, pending: PendingLink, proof: str) -> User:
    """Link a provider account to `user`, who has just proven the address is theirs."""
    identity = pending.identity()
    if user.email != normalise_email(pending.email):
        raise InvalidLink()
    if linked_user(session=session, subject_key=identity.subject_key) is not None:
        raise InvalidLink()  # single use: already linked (a replayed link)
    _link(session=session, user=user, identity=identity)
    audit.record(
        session=session, action="auth.identity_linked", actor_user_id=user.id,
        actor_email=user.email, detail={"provider": identity.provider, "proof": proof},
    )  # fmt: skip
    return _signed_in(session=session, user=user, identity=identity)


def _link(*, session: Session, user: User, identity: ProviderIdentity) -> None:
    set_db_scope(session, user_id=user.id)
    session.add(
        OAuthIdentity(user_id=user.id, provider=identity.provider, subject_key=identity.subject_key)
    )
    session.flush()


def _signed_in(
    *, session: Session, user: User, identity: ProviderIdentity, trial_days: int | None = None
) -> User:
    from hub.portal.orgs import service as orgs
    from hub.portal.orgs import sso as org_sso

    if not user.is_active:
        raise InvalidCredentials()
    set_db_scope(session, user_id=user.id)
    user.last_login_at = utc_now()
    org_sso.join_directory_orgs(session=session, user=user, identity=identity)
    set_db_scope(session, user_id=user.id)
    if not orgs.organisations_of(session=session, user_id=user.id):
        org = orgs.create_personal_org(session=session, user=user)
        if trial_days:  # billing configured: the new org's Pilot trial runs from today
            from hub.portal.billing import service as billing

            billing.start_trial(session=session, org_id=org.id, days=trial_days)
    audit.record(
        session=session, action="auth.login", actor_user_id=user.id, actor_email=user.email,
        detail={"method": identity.provider},
    )  # fmt: skip
    session.flush()
    return user
