"""JSON control messages that travel beside the Parquet batches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.bundle import BundleManifest
from shared.errors import MessageError
from shared.ids import BatchId, CompressorId, OrgId, StationId

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


class UpdateOutcome(StrEnum):
    PROMOTED = "promoted"  # verified, shadow-scored, now running
    REJECTED = "rejected"  # refused before running (signature, sha256, format, sanity check)
    ROLLED_BACK = "rolled_back"  # ran, failed, the previous version runs again
    FAILED = "failed"  # could not be fetched or loaded; the running model is unchanged


class ModelUpdateReport(BaseModel):
    """The fate of the last model offer a station acted on."""

    model_config = ConfigDict(extra="allow")

    model_id: str
    version: str
    outcome: UpdateOutcome
    reason: str | None = None
    at: str = Field(default_factory=utc_now_iso)


class PanelState(StrEnum):
    OK = "ok"
    COMM_ERROR = "comm_error"  # no answer after bounded retries
    DEVICE_EXCEPTION = "device_exception"  # the panel answers with Modbus exceptions
    UNKNOWN = "unknown"  # not polled yet


class PanelStatus(BaseModel):
    model_config = ConfigDict(extra="allow")

    state: PanelState = PanelState.UNKNOWN
    last_ok_at: str | None = None
    polls: int = 0
    failed_polls: int = 0
    last_error: str | None = None
    #: Gateway clock minus the panel's own clock (a panel that exposes it), in seconds.
    clock_skew_s: float | None = None
    #: Modbus requests sent (retries included), exception answers or broken links, requests
    #: that got no answer in time, and the 95th percentile of answered requests' latency.
    requests: int = 0
    errors: int = 0
    timeouts: int = 0
    latency_p95_ms: float | None = None


class StationStatus(BaseModel):
    """Edge -> hub, retained: what the station is doing now.

    Every field added after the first has a default, so older messages still parse.
    """

    model_config = ConfigDict(extra="allow")

    online: bool
    agent_version: str = ""
    model_version: str | None = None
    backlog_readings: int = 0
    unacked_batches: int = 0
    last_seq: int | None = None
    at: str = Field(default_factory=utc_now_iso)
    model_id: str | None = None
    last_model_update: ModelUpdateReport | None = None
    active_alarms: int = 0
    panels: dict[str, PanelStatus] = Field(default_factory=dict)
    #: Readings the disk cap forced out of the buffer before the hub acknowledged them.
    forced_out_readings: int = 0
    forced_out_ranges: list[tuple[int, int]] = Field(default_factory=list)
    buffer_bytes: int | None = None
    clock_jumps: int = 0
    #: Remote configuration the station runs (0 or None: its file configuration only).
    config_version: int | None = None
    #: Agent clock minus the hub's (from acks) and minus each panel's clock, in seconds.
    hub_clock_skew_s: float | None = None
    panel_clock_skew_s: dict[str, float] = Field(default_factory=dict)
    #: ok, or why the buffer cannot be written (disk full, read-only file system).
    storage_state: str = "ok"


class AlarmEvent(StrEnum):
    RAISED = "raised"
    CLEARED = "cleared"
    #: A technician pressed the station's acknowledge button (on-site annunciation).
    ACKNOWLEDGED = "acknowledged"


class AlarmSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Alarm(BaseModel):
    """Edge -> hub, QoS 1, at once: one alarm episode opening or closing.

    An episode is one condition on one compressor from the reading that raised it
    to the one that cleared it; both events carry the same `episode_id`, so a
    receiver is idempotent on (episode_id, event).
    """

    model_config = ConfigDict(extra="forbid", frozen=True)

    episode_id: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,128}$")
    event: AlarmEvent
    org_id: OrgId
    station_id: StationId
    compressor_id: CompressorId
    #: A threshold rule id, `anomaly_score` (the model) or `panel_comm_loss`.
    condition: str
    severity: AlarmSeverity
    raised_at: str
    cleared_at: str | None = None
    #: The metric the condition watches, its value at this event, and the limit crossed.
    metric: str | None = None
    value: float | None = None
    threshold: float | None = None
    #: The most extreme value seen during the episode (on `cleared`).
    peak_value: float | None = None
    seq: int | None = None
    model_version: str | None = None
    message: str = ""
    at: str = Field(default_factory=utc_now_iso)
    #: When the episode was acknowledged on site, and how (e.g. the ack input's address).
    acknowledged_at: str | None = None
    acknowledged_by: str | None = None


class ModelOffer(BaseModel):
    """Hub -> edge, retained on the model topic: the model this station should run.

    `manifest` and `signature` are exactly what the bundle carries, so the station
    refuses an offer not signed by its pinned key before downloading anything.
    The bundle archive is fetched from `bundle_url` (https://, or file:// for an
    update carried to site); its contents are verified against the manifest.
    """

    model_config = ConfigDict(extra="forbid")

    manifest: BundleManifest
    signature: str  # base64 Ed25519 signature of the canonical manifest
    bundle_url: str
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
