"""The MQTT side of ingest: subscribe, hand each message to the service, ack after landing."""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as paho

from hub.ingest.landing import LandingZone
from hub.ingest.service import IngestService
from hub.settings import HubSettings
from shared.messages import encode_message
from shared.mqtt import connect_async, make_client
from shared.topics import Kind, shared_subscription, subscription, topic

log = logging.getLogger(__name__)


class IngestWorker:
    """One ingest worker. MQTT PUBACK is sent only after the batch is durable on disk."""

    def __init__(self, settings: HubSettings, *, client_id: str | None = None) -> None:
        self.settings = settings
        self.service = IngestService(
            LandingZone(settings.landing_dir, settings.quarantine_dir),
            max_batch_bytes=settings.ingest.max_batch_bytes,
        )
        group = settings.ingest.shared_group
        self._filter = (
            shared_subscription(group, Kind.TELEMETRY) if group else subscription(Kind.TELEMETRY)
        )
        # A persistent session: batches published while this worker reconnects (or the
        # broker restarts) wait for it at the broker instead of for the edge's ack
        # timeout. Each worker needs its own stable client id.
        self._client = make_client(
            settings.mqtt,
            client_id=client_id or settings.ingest.client_id,
            manual_ack=True,
            persistent_session=True,
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect
        self.connected = threading.Event()

    def start(self) -> None:
        connect_async(
            self._client, self.settings.mqtt, session_expiry_s=self.settings.ingest.session_expiry_s
        )
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()

    def _on_connect(
        self, client: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any = None
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error("broker refused the ingest connection: %s", reason)
            return
        client.subscribe(self._filter, qos=1)
        self.connected.set()
        log.info("ingest subscribed to %s", self._filter)

    def _on_disconnect(self, *_args: Any) -> None:
        self.connected.clear()

    def _on_message(self, client: paho.Client, _ud: Any, message: paho.MQTTMessage) -> None:
        try:
            outcome = self.service.handle(message.topic, message.payload)
        except OSError:
            # Landing failed (disk full, permissions): no PUBACK, no ack; the edge
            # keeps the batch and sends it again.
            log.exception("could not land a batch from %s; it stays unacknowledged", message.topic)
            return
        if outcome.address is not None:
            ack_topic = topic(outcome.address.org_id, outcome.address.station_id, Kind.ACK)
            client.publish(ack_topic, encode_message(outcome.ack), qos=1)
        client.ack(message.mid, message.qos)
