"""Accounts, password sign-in with rate limit and lockout, sessions, resets, provider sign-in."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from hub.db.base import as_utc, utc_now
from hub.db.models import Organization
from hub.portal.audit import service as audit
from hub.portal.auth.errors import AccountLocked, InvalidCredentials, InvalidLink, WeakPassword
from hub.portal.auth.models import (
    LoginAttempt,
    PasswordResetToken,
    User,
    UserSession,
)
from hub.portal.auth.passwords import MIN_LENGTH, hash_password, needs_rehash, verify_password
from hub.portal.errors import RateLimited
from hub.portal.orgs.models import Membership
from hub.portal.security import new_id, new_secret, sha256_hex
from hub.portal.tenancy import Role, set_db_scope
from hub.settings import PortalSettings

log = logging.getLogger(__name__)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def get_user(*, session: Session, user_id: str) -> User | None:
    set_db_scope(session, user_id=user_id)
    return session.get(User, user_id)


def get_user_by_email(*, session: Session, email: str) -> User | None:
    email = normalise_email(email)
    set_db_scope(session, login_email=email)
    return session.scalar(select(User).where(User.email == email))


def check_password_strength(password: str) -> None:
    if len(password) < MIN_LENGTH or len(password) > 1024:
        raise WeakPassword()


def create_user(*, session: Session, email: str, name: str, password: str | None = None) -> User:
    email = normalise_email(email)
    if password is not None:
        check_password_strength(password)
    user = User(
        id=new_id(),
        email=email,
        name=name.strip() or email.split("@")[0],
        password_hash=hash_password(password) if password is not None else None,
    )
    set_db_scope(session, login_email=email, user_id=user.id)
    session.add(user)
    session.flush()
    return user


# -- password sign-in ----------------------------------------------------------


def _check_rate(*, session: Session, email: str, client_ip: str, settings: PortalSettings) -> None:
    now = utc_now()
    recent_from_ip = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.kind == "login",
            LoginAttempt.client_ip == client_ip,
            LoginAttempt.at > now - timedelta(minutes=1),
        )
    )
    if (recent_from_ip or 0) >= settings.login_rate_per_minute:
        raise RateLimited()
    window_start = now - timedelta(minutes=settings.lockout_minutes)
    last_success = session.scalar(
        select(func.max(LoginAttempt.at)).where(
            LoginAttempt.kind == "login",
            LoginAttempt.email == email,
            LoginAttempt.succeeded.is_(True),
        )
    )
    since = max(window_start, last_success) if last_success is not None else window_start
    failures = session.scalar(
        select(func.count())
        .select_from(LoginAttempt)
        .where(
            LoginAttempt.kind == "login",
            LoginAttempt.email == email,
            LoginAttempt.succeeded.is_(False),
            LoginAttempt.at > since,
        )
    )
    if (failures or 0) >= settings.lockout_failures:
        raise AccountLocked(retry_after_s=int(settings.lockout_minutes * 60))


def authenticate_password(
    *, session: Session, email: str, password: str, client_ip: str, settings: PortalSettings
) -> User:
    """The user, or InvalidCredentials / AccountLocked / RateLimited (recorded and audited)."""
    email = normalise_email(email)[:320]
    set_db_scope(session, login_email=email, client_ip=client_ip)
    try:
        _check_rate(session=session, email=email, client_ip=client_ip, settings=settings)
    except RateLimited as exc:
        audit.record(
            session=session, action="auth.login", actor_email=email, outcome="blocked",
            detail={"reason": exc.code},
        )  # fmt: skip
        raise
    user = session.scalar(select(User).where(User.email == email))
    ok = (
        verify_password(user.password_hash if user else None, password)
        and user is not None
        and user.is_active
    )
    session.add(LoginAttempt(email=email, client_ip=client_ip, succeeded=ok, at=utc_now()))
    if not ok or user is None:
        audit.record(
            session=session, action="auth.login", actor_email=email, outcome="failure",
            actor_user_id=user.id if user else None,
        )  # fmt: skip
        session.flush()
        raise InvalidCredentials()
    set_db_scope(session, user_id=user.id)
    if user.password_hash and needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = utc_now()
    audit.record(
        session=session, action="auth.login", actor_user_id=user.id, actor_email=email,
        detail={"method": "password"},
    )  # fmt: skip
    return user


# -- sessions --------------------------------------------------------------------


@dataclass(frozen=True)
class NewSession:
    token: str
    record: UserSession


def create_session(
    *, session: Session, user: User, client_ip: str, hours: float, org_id: str | None = None,
    sso_directory: str | None = None,
) -> NewSession:  # fmt: skip
    token = new_secret()
    now = utc_now()
    record = UserSession(
        token_hash=sha256_hex(token),
        user_id=user.id,
        csrf_token=new_secret(24),
        org_id=org_id,
        created_at=now,
        expires_at=now + timedelta(hours=hours),
        client_ip=client_ip,
        sso_directory=sso_directory,
    )
    set_db_scope(session, user_id=user.id)
    session.add(record)
    session.flush()
    return NewSession(token=token, record=record)


@dataclass(frozen=True)
class Caller:
    """Who presented a session cookie or API token, and their organisations with roles."""

    user: User
    orgs: list[tuple[Organization, Role]]
    session_record: UserSession | None = None


def caller_orgs(
    rows: list[tuple[str | None, Organization | None]],
) -> list[tuple[Organization, Role]]:
    found = [(org, Role(role)) for role, org in rows if org is not None and role is not None]
    return sorted(found, key=lambda pair: (pair[0].name, pair[0].id))


def resolve_session(*, session: Session, token: str) -> Caller | None:
    """The live session, its user and their organisations for a cookie value: one query.

    RLS lets the holder of the session read exactly these rows (see 0002_portal).
    """
    token_hash = sha256_hex(token)
    set_db_scope(session, session_hash=token_hash)
    rows = session.execute(
        select(UserSession, User, Membership.role, Organization)
        .join(User, User.id == UserSession.user_id)
        .outerjoin(Membership, Membership.user_id == User.id)
        .outerjoin(Organization, Organization.id == Membership.org_id)
        .where(UserSession.token_hash == token_hash)
    ).all()
    if not rows:
        return None
    record, user = rows[0][0], rows[0][1]
    if as_utc(record.expires_at) <= utc_now() or not user.is_active:
        return None
    return Caller(user=user, orgs=caller_orgs([(r[2], r[3]) for r in rows]), session_record=record)


def end_session(*, session: Session, record: UserSession) -> None:
    session.delete(record)
    session.flush()


def end_all_sessions(*, session: Session, user_id: str) -> None:
    set_db_scope(session, user_id=user_id)
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))


# -- password reset ------------------------------------------------------------------


def request_password_reset(
    *, session: Session, email: str, settings: PortalSettings
) -> tuple[User, str] | None:
    """A new single-use reset token for the account, or None if there is no such account."""
    user = get_user_by_email(session=session, email=email)
    if user is None or not user.is_active:
        return None
    token = new_secret()
    set_db_scope(session, user_id=user.id)
    session.add(
        PasswordResetToken(
            token_hash=sha256_hex(token),
            user_id=user.id,
            expires_at=utc_now() + timedelta(minutes=settings.password_reset_minutes),
        )
    )
    audit.record(
        session=session, action="auth.password_reset_requested", actor_user_id=user.id,
        actor_email=user.email,
    )  # fmt: skip
    return user, token


def check_reset_token(*, session: Session, token: str) -> PasswordResetToken:
    token_hash = sha256_hex(token[:200])
    set_db_scope(session, reset_hash=token_hash)
    record = session.get(PasswordResetToken, token_hash)
    if record is None or record.used_at is not None or as_utc(record.expires_at) <= utc_now():
        raise InvalidLink()
    return record


def reset_password(*, session: Session, token: str, new_password: str) -> User:
    record = check_reset_token(session=session, token=token)
    check_password_strength(new_password)
    user = get_user(session=session, user_id=record.user_id)
    if user is None:
        raise InvalidLink()
    user.password_hash = hash_password(new_password)
    record.used_at = utc_now()
    end_all_sessions(session=session, user_id=user.id)
    audit.record(
        session=session, action="auth.password_reset", actor_user_id=user.id, actor_email=user.email
    )
    session.flush()
    return user
