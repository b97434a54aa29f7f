"""What ingest does with one message, independent of MQTT: decide, land or quarantine, answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hub.ingest.landing import LandingZone
from shared.batch import DecodedBatch, decode_batch, read_batch_meta
from shared.errors import BatchError, TopicError
from shared.messages import Ack, AckStatus
from shared.topics import Kind, TopicAddress, parse_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """The ack to send (if the sender can be addressed) for one telemetry message."""

    address: TopicAddress | None
    ack: Ack
    #: The landed batch (for the hot path, after the ack); None when it was refused.
    batch: DecodedBatch | None = None


class IngestService:
    def __init__(self, zone: LandingZone, *, max_batch_bytes: int) -> None:
        self.zone = zone
        self.max_batch_bytes = max_batch_bytes
        self.landed = 0
        self.duplicates = 0
        self.rejected = 0

    def handle(self, topic_name: str, payload: bytes) -> Outcome:
        try:
            address = parse_topic(topic_name)
            if address.kind != Kind.TELEMETRY:
                raise TopicError(f"topic {topic_name!r} is not a telemetry topic")
        except TopicError as exc:
            self._quarantine(payload, topic_name, "bad_topic", str(exc))
            return Outcome(
                None, Ack(batch_id=None, status=AckStatus.REJECTED, reason=f"bad_topic: {exc}")
            )
        try:
            batch = decode_batch(
                payload,
                max_bytes=self.max_batch_bytes,
                expected_org=address.org_id,
                expected_station=address.station_id,
            )
        except BatchError as exc:
            self._quarantine(payload, topic_name, exc.reason, str(exc))
            return Outcome(
                address,
                Ack(
                    batch_id=_batch_id_if_readable(payload),
                    status=AckStatus.REJECTED,
                    reason=f"{exc.reason}: {exc}",
                ),
            )
        landed = self.zone.land(batch, payload)
        if landed.duplicate:
            self.duplicates += 1
            log.info("batch %s already landed; acknowledging again", batch.meta.batch_id)
        else:
            self.landed += 1
        return Outcome(
            address,
            Ack(
                batch_id=batch.meta.batch_id,
                status=AckStatus.DURABLE,
                duplicate=landed.duplicate,
                first_seq=batch.meta.first_seq,
                last_seq=batch.meta.last_seq,
            ),
            batch,
        )

    def _quarantine(self, payload: bytes, topic_name: str, reason: str, detail: str) -> None:
        self.rejected += 1
        where = self.zone.quarantine(payload, topic=topic_name, reason=reason, detail=detail)
        log.warning(
            "quarantined %d-byte payload from %s: %s (%s)",
            len(payload),
            topic_name,
            detail,
            where.name,
        )


def _batch_id_if_readable(payload: bytes) -> str | None:
    """The batch id from the footer (cheap even when oversized), so the edge stops re-sending."""
    try:
        return read_batch_meta(payload).batch_id
    except BatchError:
        return None
