"""Alert episodes (from the serving tables): the queue, acknowledge, resolve with a note."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session


def summaries_for_compressor(*, session: Session, org_id: str, compressor_id: str) -> list[Any]:
    """Open and recent alert episodes of one compressor (none until the serving tables exist)."""
    return []
