"""The batch identity: what a telemetry batch's Parquet key-value metadata says.

Both ends use it: the edge agent writes it with DuckDB (`edge_agent.buffer`), the hub
reads it with Arrow (`shared.batch`). No Arrow here, so a gateway never loads it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.errors import BatchMetadataError, InvalidIdentifier
from shared.ids import check_id
from shared.schema import SCHEMA_VERSION

META_PREFIX = "altaviz."
PARQUET_MAGIC = b"PAR1"
DEFAULT_MAX_BATCH_BYTES = 16 * 1024 * 1024

#: Rows of a batch are ordered by compressor, then sequence: each compressor's series is
#: contiguous, so timestamps and sequence numbers delta- or dictionary-encode to little.
BATCH_ROW_ORDER: tuple[str, ...] = ("compressor_id", "seq")

_REQUIRED_KEYS = (
    "schema_version",
    "org_id",
    "station_id",
    "batch_id",
    "first_seq",
    "last_seq",
    "row_count",
)


@dataclass(frozen=True)
class BatchMeta:
    org_id: str
    station_id: str
    batch_id: str
    first_seq: int
    last_seq: int
    row_count: int
    schema_version: int = SCHEMA_VERSION
    created_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    producer: str = "altaviz"

    def to_kv(self) -> dict[bytes, bytes]:
        values = {
            "schema_version": str(self.schema_version),
            "org_id": self.org_id,
            "station_id": self.station_id,
            "batch_id": self.batch_id,
            "first_seq": str(self.first_seq),
            "last_seq": str(self.last_seq),
            "row_count": str(self.row_count),
            "created_at": self.created_at,
            "producer": self.producer,
        }
        return {f"{META_PREFIX}{k}".encode(): v.encode() for k, v in values.items()}

    @classmethod
    def from_kv(cls, kv: dict[bytes, bytes] | None) -> BatchMeta:
        found = {
            k.decode(errors="replace")[len(META_PREFIX) :]: v.decode(errors="replace")
            for k, v in (kv or {}).items()
            if k.startswith(META_PREFIX.encode())
        }
        missing = [k for k in _REQUIRED_KEYS if k not in found]
        if missing:
            keys = ", ".join(META_PREFIX + k for k in missing)
            raise BatchMetadataError(f"batch metadata is missing {keys}")
        ints: dict[str, int] = {}
        for key in ("schema_version", "first_seq", "last_seq", "row_count"):
            try:
                ints[key] = int(found[key])
            except ValueError:
                raise BatchMetadataError(
                    f"batch metadata {META_PREFIX}{key}={found[key]!r} is not an integer"
                ) from None
        try:
            for kind in ("org_id", "station_id", "batch_id"):
                check_id(kind.replace("_", " "), found[kind])
        except InvalidIdentifier as exc:
            raise BatchMetadataError(f"batch metadata: {exc}") from None
        return cls(
            org_id=found["org_id"],
            station_id=found["station_id"],
            batch_id=found["batch_id"],
            first_seq=ints["first_seq"],
            last_seq=ints["last_seq"],
            row_count=ints["row_count"],
            schema_version=ints["schema_version"],
            created_at=found.get("created_at", ""),
            producer=found.get("producer", ""),
        )
