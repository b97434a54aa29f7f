"""A hub-side MQTT subscriber: persistent session, QoS 1, PUBACK only after the work is done."""

from __future__ import annotations

import logging
import threading
from typing import Any

import paho.mqtt.client as paho

from hub.observability.metrics import observe_mqtt_connected
from hub.settings import HubSettings
from shared.mqtt import connect_async, make_client

log = logging.getLogger(__name__)


class Subscriber:
    """Subscribes to `filters` on every (re)connect and hands each message to `handle`.

    The session persists at the broker (messages published while the hub reconnects
    wait for it), so each subscriber needs its own stable client id. A message is
    PUBACKed only when `handle` returns; if it raises, the broker delivers it again
    after the next reconnect instead of it being lost.
    """

    #: Named in logs ("ingest", "station-events").
    name = "subscriber"

    def __init__(self, settings: HubSettings, *, client_id: str, filters: list[str]) -> None:
        self.settings = settings
        self.filters = filters
        self._client = make_client(
            settings.mqtt, client_id=client_id, manual_ack=True, persistent_session=True
        )
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_disconnect = self._on_disconnect
        self.connected = threading.Event()

    def handle(self, client: paho.Client, message: paho.MQTTMessage) -> None:
        raise NotImplementedError

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
            log.error("broker refused the %s connection: %s", self.name, reason)
            return
        client.subscribe([(f, 1) for f in self.filters])
        self.connected.set()
        observe_mqtt_connected(self.name, True)
        log.info("%s subscribed to %s", self.name, ", ".join(self.filters))

    def _on_disconnect(self, *_args: Any) -> None:
        self.connected.clear()
        observe_mqtt_connected(self.name, False)

    def _on_message(self, client: paho.Client, _ud: Any, message: paho.MQTTMessage) -> None:
        try:
            self.handle(client, message)
        except Exception:
            log.exception(
                "%s could not handle a message from %s; not acknowledged", self.name, message.topic
            )
            return
        client.ack(message.mid, message.qos)
