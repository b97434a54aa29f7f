"""The MQTT side of ingest: subscribe, hand each message to the service, ack after landing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import paho.mqtt.client as paho

from hub.ingest.hotpath import HotPath
from hub.ingest.landing import LandingZone
from hub.ingest.service import IngestService
from hub.ingest.stations import StationDirectory
from hub.ingest.subscriber import Subscriber
from hub.settings import HubSettings
from shared.messages import encode_message
from shared.topics import Kind, shared_subscription, subscription, topic


class IngestWorker(Subscriber):
    """One ingest worker. MQTT PUBACK is sent only after the batch is durable on disk.

    If landing fails (disk full, permissions) `handle` raises: no PUBACK and no ack, so
    the edge keeps the batch and sends it again. With a `hotpath`, a landed batch is handed
    to it after the ack is published (never before, and it never blocks or fails the ack).
    """

    name = "ingest"

    def __init__(
        self,
        settings: HubSettings,
        *,
        client_id: str | None = None,
        clock: Callable[[], datetime] | None = None,
        hotpath: HotPath | None = None,
    ) -> None:
        group = settings.ingest.shared_group
        super().__init__(
            settings,
            client_id=client_id or settings.ingest.client_id,
            filters=[
                shared_subscription(group, Kind.TELEMETRY)
                if group
                else subscription(Kind.TELEMETRY)
            ],
        )
        options = settings.ingest
        self.service = IngestService(
            LandingZone(
                settings.landing_dir,
                settings.quarantine_dir,
                quarantine_max_bytes=options.quarantine_max_bytes,
                quarantine_sample_bytes=options.quarantine_sample_bytes,
                clock=clock,
            ),
            max_batch_bytes=options.max_batch_bytes,
            directory=station_directory(settings) if options.known_stations_only else None,
        )
        self.hotpath = hotpath
        self.clock = clock

    def handle(self, client: paho.Client, message: paho.MQTTMessage) -> None:
        outcome = self.service.handle(message.topic, message.payload)
        if outcome.address is not None:
            ack_topic = topic(outcome.address.org_id, outcome.address.station_id, Kind.ACK)
            client.publish(ack_topic, encode_message(outcome.ack), qos=1)
        if self.hotpath is not None and outcome.batch is not None:
            received_at = None if self.clock is None else self.clock()
            self.hotpath.submit(outcome.batch, received_at=received_at)

    def start(self) -> None:
        if self.hotpath is not None:
            self.hotpath.start()
        super().start()

    def stop(self) -> None:
        super().stop()
        if self.hotpath is not None:
            self.hotpath.stop()


def station_directory(settings: HubSettings) -> StationDirectory:
    """The serving database's stations, through a small engine of ingest's own."""
    from hub.db.session import make_engine

    return StationDirectory(make_engine(settings.database_url))
