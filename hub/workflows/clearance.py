"""Whether an alert's condition has cleared, read from the serving database.

The lakehouse already applies its own hysteresis before it closes an episode (the signal
below its clear level for `close_after_min` minutes); workflow alerts are closed by the
workflow that raised them once their condition is gone. So today "clear since" is the
time the alert closed. When gold brings per-sensor status and model scores to serving, a
richer check (readings inside the threshold for K minutes, score below its clear level)
implements the same one-method interface (hub.workflows.context.ClearanceCheck).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from hub.db.base import as_utc
from hub.workflows.context import Episode


class ServingClearance:
    def clear_since(self, session: Session, episode: Episode, now: datetime) -> datetime | None:
        if episode.status != "closed" or episode.closed_at is None:
            return None  # open: the condition is present; superseded: cleanup's business
        return as_utc(episode.closed_at)
