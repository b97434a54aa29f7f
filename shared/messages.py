"""JSON control messages that travel beside the Parquet batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.errors import MessageError
from shared.ids import BatchId

MAX_CONTROL_MESSAGE_BYTES = 64 * 1024

M = TypeVar("M", bound=BaseModel)


def utc_now_iso() -> str:
    return datetime.now(UTC).isoformat()


class AckStatus(StrEnum):
    DURABLE = "durable"  # landed on the hub's disk; the edge may forget it (after retention)
    REJECTED = "rejected"  # quarantined; re-sending the same bytes will not help


class Ack(BaseModel):
    """Hub -> edge: the fate of one batch."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    batch_id: BatchId | None = Field(description="None when the payload had no readable id")
    status: AckStatus
    reason: str | None = None
    duplicate: bool = False
    first_seq: int | None = None
    last_seq: int | None = None
    at: str = Field(default_factory=utc_now_iso)


class StationStatus(BaseModel):
    """Edge -> hub, retained: what the station is doing now."""

    model_config = ConfigDict(extra="allow")

    online: bool
    agent_version: str = ""
    model_version: str | None = None
    backlog_readings: int = 0
    unacked_batches: int = 0
    last_seq: int | None = None
    at: str = Field(default_factory=utc_now_iso)


def encode_message(message: BaseModel) -> bytes:
    return message.model_dump_json().encode()


def decode_message(payload: bytes, model: type[M]) -> M:
    """Parse a control message; a malformed one raises MessageError saying what is wrong."""
    if len(payload) > MAX_CONTROL_MESSAGE_BYTES:
        raise MessageError(
            f"{model.__name__} message is {len(payload)} bytes, above {MAX_CONTROL_MESSAGE_BYTES}"
        )
    try:
        data: Any = json.loads(payload)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MessageError(f"{model.__name__} message is not JSON: {exc}") from None
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(message)"
        raise MessageError(f"{model.__name__} message: {where}: {first['msg']}") from None
