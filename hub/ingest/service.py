"""What ingest does with one message, independent of MQTT: decide, land or quarantine, answer."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from opentelemetry import trace

from hub.ingest.landing import LandingZone
from hub.ingest.stations import StationDirectory
from hub.observability.metrics import observe_batch, observe_quarantine
from shared.batch import DecodedBatch, decode_batch, read_batch_meta
from shared.errors import BatchError, TopicError
from shared.messages import Ack, AckStatus
from shared.topics import Kind, TopicAddress, parse_topic

log = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


@dataclass(frozen=True)
class Outcome:
    """The ack to send (if the sender can be addressed) for one telemetry message."""

    address: TopicAddress | None
    ack: Ack
    #: The landed batch (for the hot path, after the ack); None when it was refused.
    batch: DecodedBatch | None = None


class IngestService:
    def __init__(
        self,
        zone: LandingZone,
        *,
        max_batch_bytes: int,
        directory: StationDirectory | None = None,
    ) -> None:
        self.zone = zone
        self.max_batch_bytes = max_batch_bytes
        #: None accepts any org and station (trials); else unknown ones are refused.
        self.directory = directory
        self.landed = 0
        self.duplicates = 0
        self.rejected = 0

    def handle(self, topic_name: str, payload: bytes) -> Outcome:
        with tracer.start_as_current_span("ingest.batch") as span:
            outcome = self._handle(topic_name, payload)
            span.set_attribute("altaviz.topic", topic_name)
            span.set_attribute("altaviz.payload_bytes", len(payload))
            span.set_attribute("altaviz.ack", outcome.ack.status.value)
            if outcome.ack.batch_id:
                span.set_attribute("altaviz.batch_id", outcome.ack.batch_id)
            return outcome

    def _handle(self, topic_name: str, payload: bytes) -> Outcome:
        try:
            address = parse_topic(topic_name)
            if address.kind != Kind.TELEMETRY:
                raise TopicError(f"topic {topic_name!r} is not a telemetry topic")
        except TopicError as exc:
            self._quarantine(payload, topic_name, "bad_topic", str(exc))
            return Outcome(
                None, Ack(batch_id=None, status=AckStatus.REJECTED, reason=f"bad_topic: {exc}")
            )
        if self.directory is not None and not self.directory.is_known(
            address.org_id, address.station_id
        ):
            detail = f"org {address.org_id!r} has no station {address.station_id!r} at this hub"
            self._quarantine(payload, topic_name, "unknown_station", detail)
            return Outcome(
                address,
                Ack(
                    batch_id=_batch_id_if_readable(payload),
                    status=AckStatus.REJECTED,
                    reason=f"unknown_station: {detail}",
                ),
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
        if landed.conflict:
            detail = (
                f"batch {batch.meta.batch_id} was already landed with other rows "
                f"({landed.path.name}); this delivery is kept apart"
            )
            self._quarantine(payload, topic_name, "conflict", detail)
            return Outcome(
                address,
                Ack(
                    batch_id=batch.meta.batch_id,
                    status=AckStatus.REJECTED,
                    reason=f"conflict: {detail}",
                ),
            )
        if landed.duplicate:
            self.duplicates += 1
            observe_batch("duplicate")
            log.info("batch %s already landed; acknowledging again", batch.meta.batch_id)
        else:
            self.landed += 1
            observe_batch("landed", readings=batch.meta.row_count)
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
        observe_batch("conflict" if reason == "conflict" else "quarantined")
        observe_quarantine(reason, kept_bytes=self.zone.quarantine_bytes)
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
