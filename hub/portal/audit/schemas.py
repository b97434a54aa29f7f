from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict

from hub.portal.pagination import Page


class AuditEventRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    at: datetime
    action: str
    actor_email: str | None
    target: str | None
    outcome: str
    client_ip: str | None
    request_id: str | None
    detail: dict[str, Any]


AuditPage = Page[AuditEventRead]
