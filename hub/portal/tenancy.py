"""Tenant scope: the constrained tenant id type and the database settings RLS reads.

The request dependency in `hub.portal.auth.dependencies` calls `set_db_scope` once
per request; PostgreSQL row-level security then enforces the same scope again.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import Annotated

from fastapi import Path
from pydantic import StringConstraints
from sqlalchemy import text
from sqlalchemy.orm import Session

from shared.ids import ID_PATTERN, check_id

#: An organisation id as it appears in URLs: validated before any handler sees it.
TenantId = Annotated[
    str,
    StringConstraints(pattern=ID_PATTERN, max_length=64),
    Path(description="Organisation id", examples=["demo-org"]),
]

#: Ids in URLs after the org: validated before any handler runs.
StationIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
CompressorIdPath = Annotated[str, Path(pattern=ID_PATTERN, max_length=64)]
#: Ids the portal makes (users, tokens, invitations): 32 hex digits.
HexIdPath = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
#: Alert episode ids come from the lakehouse (a hash of the episode's key).
AlertIdPath = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]

#: Transaction-local settings the RLS policies read (see the portal migration).
_SCOPE_SETTINGS = {
    "org_id": "app.org_id",
    "user_id": "app.user_id",
    "login_email": "app.login_email",
    "login_subject": "app.login_subject",
    "login_directory": "app.login_directory",
    "client_ip": "app.client_ip",
    "session_hash": "app.session_hash",
    "token_hash": "app.token_hash",
    "invite_hash": "app.invite_hash",
    "reset_hash": "app.reset_hash",
}


class Role(enum.StrEnum):
    owner = "owner"
    admin = "admin"
    operator = "operator"
    viewer = "viewer"

    @property
    def rank(self) -> int:
        return _RANK[self]

    def at_least(self, other: Role) -> bool:
        return self.rank >= other.rank


_RANK = {Role.viewer: 1, Role.operator: 2, Role.admin: 3, Role.owner: 4}


@dataclass(frozen=True)
class OrgScope:
    """Who is acting in which organisation, with which role (set once per request)."""

    org_id: str
    user_id: str
    role: Role
    via_token: bool = False


def set_db_scope(session: Session, **values: str | None) -> None:
    """Set RLS settings for the current transaction only (PostgreSQL), and remember them."""
    unknown = set(values) - set(_SCOPE_SETTINGS)
    if unknown:
        raise ValueError(f"unknown scope setting(s): {sorted(unknown)}")
    if values.get("org_id") is not None:
        check_id("org id", values["org_id"])
    session.info.update(values)
    if session.get_bind().dialect.name != "postgresql" or not values:
        return
    # Setting names come from the fixed table above; values are bound parameters.
    parts = [f"set_config('{_SCOPE_SETTINGS[key]}', :{key}, true)" for key in values]
    params = {key: (value or "") for key, value in values.items()}
    session.execute(text("SELECT " + ", ".join(parts)), params)
