from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hub.portal.pagination import Page

TokenName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TokenName
    #: Days until it stops working; None = until revoked.
    expires_in_days: int | None = Field(None, ge=1, le=3650)


class ApiTokenRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    prefix: str
    user_id: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None
    revoked_at: datetime | None


class ApiTokenCreated(ApiTokenRead):
    #: The token itself: shown once, stored only as a hash.
    token: str


ApiTokenPage = Page[ApiTokenRead]
