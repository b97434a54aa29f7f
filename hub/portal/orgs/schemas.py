from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from hub.portal.pagination import Page
from hub.portal.tenancy import Role
from hub.portal.types import Name


class OrganizationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    plan: str
    role: Role | None = None


class OrganizationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: Name


class MemberRead(BaseModel):
    user_id: str
    email: str
    name: str
    role: Role
    joined_at: datetime


class MemberUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: EmailStr = Field(max_length=320)
    role: Role = Role.viewer


class InvitationRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    email: str
    role: Role
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None


class InvitationCreated(InvitationRead):
    #: The link to send to the invitee; shown once.
    accept_url: str


MemberPage = Page[MemberRead]
InvitationPage = Page[InvitationRead]


class OrgSsoUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    #: A sign-in provider of this portal (portal.oidc), of kind entra or oidc (Google).
    provider: str = Field(pattern=r"^[a-z0-9_-]{1,40}$")
    #: The Entra tenant id or the Google Workspace domain.
    directory: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9.-]+$")
    #: Members must sign in through the directory to work in the org.
    required: bool = False
    #: The directory's users join on their first sign-in with this role (None: invitations only).
    jit_role: Role | None = None


class OrgSsoRead(OrgSsoUpdate):
    model_config = ConfigDict(from_attributes=True, extra="ignore")
