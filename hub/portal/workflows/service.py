"""The portal's side of the workflows: who acts (the request's scope), errors as the
portal reports them (a refused field -> 422 naming it), and the portal's wall clock."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy.orm import Session

from hub.db.base import utc_now
from hub.portal.auth.models import User
from hub.portal.errors import InvalidInput, NotFound
from hub.portal.orgs import service as orgs
from hub.portal.tenancy import OrgScope
from hub.settings import HubSettings
from hub.workflows import service as workflows
from hub.workflows.errors import InvalidField, NotFoundError
from hub.workflows.schemas import (
    AssignBody,
    ChannelCreate,
    ChannelCreated,
    PolicyRead,
    PolicyUpdate,
    RuleCreate,
    RuleRead,
)


@contextmanager
def portal_errors() -> Iterator[None]:
    """The workflows' errors as portal errors (the portal maps those to HTTP statuses)."""
    try:
        yield
    except InvalidField as exc:
        raise InvalidInput(
            f"{exc.field}: {exc.message}",
            details=[{"loc": ["body", exc.field], "message": exc.message}],
        ) from exc
    except NotFoundError as exc:
        raise NotFound(str(exc)) from exc


def actor(session: Session, scope: OrgScope) -> dict[str, str]:
    user = session.get(User, scope.user_id)
    return {"actor": user.email if user else scope.user_id, "actor_user_id": scope.user_id}


def get_policy(*, session: Session, scope: OrgScope, settings: HubSettings) -> PolicyRead:
    return workflows.get_policy(
        session=session, org_id=scope.org_id, defaults=settings.workflows.defaults
    )


def set_policy(*, session: Session, scope: OrgScope, body: PolicyUpdate) -> PolicyRead:
    return workflows.set_policy(
        session=session, org_id=scope.org_id, policy=body, now=utc_now(), **actor(session, scope)
    )


def save_rule(
    *, session: Session, scope: OrgScope, body: RuleCreate, rule_id: str | None = None
) -> RuleRead:
    with portal_errors():
        return workflows.save_rule(
            session=session, org_id=scope.org_id, body=body, rule_id=rule_id, now=utc_now(),
            **actor(session, scope),
        )  # fmt: skip


def rule_versions(*, session: Session, scope: OrgScope, rule_id: str) -> list[RuleRead]:
    with portal_errors():
        return workflows.rule_versions(session=session, org_id=scope.org_id, rule_id=rule_id)


def create_channel(
    *, session: Session, scope: OrgScope, body: ChannelCreate, settings: HubSettings
) -> ChannelCreated:
    require_https = settings.workflows.require_https
    if require_https is None:
        require_https = not settings.development
    with portal_errors():
        channel = workflows.create_channel(
            session=session, org_id=scope.org_id, body=body, require_https=require_https,
            **actor(session, scope),
        )  # fmt: skip
    return ChannelCreated.model_validate(channel, from_attributes=True)


def delete_channel(*, session: Session, scope: OrgScope, channel_id: str) -> None:
    with portal_errors():
        workflows.delete_channel(
            session=session, org_id=scope.org_id, channel_id=channel_id, **actor(session, scope)
        )


def resend(*, session: Session, scope: OrgScope, notification_id: str) -> Any:
    with portal_errors():
        return workflows.resend_notification(
            session=session, org_id=scope.org_id, notification_id=notification_id,
            now=utc_now(), **actor(session, scope),
        )  # fmt: skip


def assign(*, session: Session, scope: OrgScope, alert_id: str, body: AssignBody) -> None:
    with portal_errors():
        workflows.assign(
            session=session, org_id=scope.org_id, episode_id=alert_id, user_id=body.user_id,
            now=utc_now(), **actor(session, scope),
        )  # fmt: skip


def comment(*, session: Session, scope: OrgScope, alert_id: str, text: str) -> None:
    with portal_errors():
        workflows.comment(
            session=session, org_id=scope.org_id, episode_id=alert_id, text=text, now=utc_now(),
            **actor(session, scope),
        )  # fmt: skip


def members(*, session: Session, org_id: str) -> list[dict[str, str]]:
    return [
        {"user_id": user.id, "email": user.email, "role": membership.role}
        for membership, user in orgs.list_members(session=session, org_id=org_id)
    ]
