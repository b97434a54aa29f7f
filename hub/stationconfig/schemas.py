"""What the portal and the CLI show: desired vs reported per station."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel


class StationConfigRead(BaseModel):
    station_id: str
    station_name: str
    desired_version: int | None
    desired_at: datetime | None
    issued_by: str | None
    reported_version: int | None
    outcome: str | None
    reason: str | None
    running_version: int | None
    reported_at: datetime | None

    @property
    def in_sync(self) -> bool:
        """The station runs what the hub wants (nothing pushed counts as in sync)."""
        if self.desired_version is None:
            return True
        return self.running_version == self.desired_version
