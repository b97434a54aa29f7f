from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hub.portal.pagination import Page
from hub.portal.types import ShortName

TokenName = ShortName
#: read: GET and HEAD only (exports, dashboards); read_write: everything the role allows.
TokenScope = Literal["read", "read_write"]


class ApiTokenCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: TokenName
    #: Days until it stops working; None = until revoked.
    expires_in_days: int | None = Field(None, ge=1, le=3650)
    scope: TokenScope = "read_write"


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
    scope: str = "read_write"


class ApiTokenCreated(ApiTokenRead):
    #: The token itself: shown once, stored only as a hash.
    token: str


ApiTokenPage = Page[ApiTokenRead]
