"""MQTT link to the hub. Callbacks only enqueue events; the agent thread acts on them."""

from __future__ import annotations

import contextlib
import logging
import queue
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as paho

from edge_agent import __version__
from shared.errors import MessageError
from shared.messages import Ack, ModelOffer, StationStatus, decode_message, encode_message
from shared.mqtt import MqttSettings, make_client
from shared.topics import Kind, topic

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connected:
    pass


@dataclass(frozen=True)
class Disconnected:
    reason: str


@dataclass(frozen=True)
class AckReceived:
    ack: Ack


@dataclass(frozen=True)
class OfferReceived:
    offer: ModelOffer


@dataclass(frozen=True)
class ConfigReceived:
    """A configuration document on the retained config topic (verified by the agent)."""

    payload: bytes


@dataclass(frozen=True)
class Published:
    """The broker acknowledged (PUBACK) the QoS 1 message with this id."""

    mid: int


Event = Connected | Disconnected | AckReceived | OfferReceived | ConfigReceived | Published


class Uplink:
    def __init__(self, settings: MqttSettings, *, org_id: str, station_id: str) -> None:
        self.org_id = org_id
        self.station_id = station_id
        self.events: queue.Queue[Event] = queue.Queue()
        self.connected = False
        self._stopping = False
        self._ack_topic = topic(org_id, station_id, Kind.ACK)
        self._status_topic = topic(org_id, station_id, Kind.STATUS)
        self.telemetry_topic = topic(org_id, station_id, Kind.TELEMETRY)
        self.alarms_topic = topic(org_id, station_id, Kind.ALARMS)
        self._model_topic = topic(org_id, station_id, Kind.MODEL)
        self._config_topic = topic(org_id, station_id, Kind.CONFIG)
        self.config_status_topic = topic(org_id, station_id, Kind.CONFIG_STATUS)
        self._settings = settings
        self._client = make_client(settings, client_id=f"altaviz-edge-{org_id}-{station_id}")
        offline = StationStatus(online=False, agent_version=__version__)
        self._client.will_set(self._status_topic, encode_message(offline), qos=1, retain=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_publish = self._on_publish

    def start(self) -> None:
        self._client.connect_async(
            self._settings.host, self._settings.port, keepalive=self._settings.keepalive_s
        )
        self._client.loop_start()

    def stop(self, final_status: StationStatus | None = None) -> None:
        self._stopping = True
        if self.connected and final_status is not None:
            info = self._client.publish(
                self._status_topic, encode_message(final_status), qos=1, retain=True
            )
            with contextlib.suppress(RuntimeError, ValueError):
                info.wait_for_publish(timeout=2)
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, topic_name: str, payload: bytes, *, retain: bool = False) -> int | None:
        """Publish at QoS 1; the message id, or None if the link is down (the caller keeps the data)."""
        if not self.connected:
            return None
        info = self._client.publish(topic_name, payload, qos=1, retain=retain)
        return info.mid if info.rc == paho.MQTT_ERR_SUCCESS else None

    def publish_status(self, status: StationStatus) -> None:
        self.publish(self._status_topic, encode_message(status), retain=True)

    # paho callbacks (network thread) ------------------------------------

    def _on_connect(
        self, client: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any = None
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("hub broker refused the connection: %s", reason)
            return
        client.subscribe([(self._ack_topic, 1), (self._model_topic, 1), (self._config_topic, 1)])
        self.connected = True
        log.info("connected to %s:%s", self._settings.host, self._settings.port)
        self.events.put(Connected())

    def _on_disconnect(
        self, _c: paho.Client, _ud: Any, _flags: Any, reason: Any, _props: Any = None
    ) -> None:
        was_connected, self.connected = self.connected, False
        if was_connected and not self._stopping:
            log.warning("link to the hub broker lost (%s); buffering", reason)
        self.events.put(Disconnected(reason=str(reason)))

    def _on_publish(
        self, _c: paho.Client, _ud: Any, mid: int, _reason: Any = None, _props: Any = None
    ) -> None:
        self.events.put(Published(mid))

    def _on_message(self, _c: paho.Client, _ud: Any, message: paho.MQTTMessage) -> None:
        if message.topic == self._model_topic:
            self._on_offer(bytes(message.payload))
            return
        if message.topic == self._config_topic:
            self.events.put(ConfigReceived(bytes(message.payload)))
            return
        if message.topic != self._ack_topic:
            return
        try:
            ack = decode_message(bytes(message.payload), Ack)
        except MessageError as exc:
            log.warning("ignoring malformed ack on %s: %s", message.topic, exc)
            return
        self.events.put(AckReceived(ack))

    def _on_offer(self, payload: bytes) -> None:
        if not payload:
            return  # the hub cleared the retained offer
        try:
            offer = decode_message(payload, ModelOffer)
        except MessageError as exc:
            log.warning("ignoring malformed model offer: %s", exc)
            return
        self.events.put(OfferReceived(offer))
