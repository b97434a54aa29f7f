"""MQTT for station configuration: publish a document retained, hear the stations' reports."""

from __future__ import annotations

import logging
import threading
import time
from typing import Any

import paho.mqtt.client as paho
from sqlalchemy import Engine

from hub.db.session import session_scope
from hub.ingest.subscriber import Subscriber
from hub.settings import HubSettings
from hub.stationconfig import service
from hub.stationconfig.errors import PublishFailed
from shared.errors import MessageError, TopicError
from shared.messages import decode_message, encode_message
from shared.mqtt import MqttSettings, make_client
from shared.station_config import ConfigReport, SignedStationConfig
from shared.topics import Kind, parse_topic, subscription, topic

log = logging.getLogger(__name__)


def publish(
    settings: MqttSettings, signed: SignedStationConfig, *, timeout_s: float = 10.0
) -> None:
    """Publish retained at QoS 1 and wait for the broker's PUBACK (PublishFailed otherwise)."""
    document = signed.document
    name = topic(document.org_id, document.station_id, Kind.CONFIG)
    client = make_client(settings, client_id=f"altaviz-hub-config-{time.monotonic_ns()}")
    connected = threading.Event()
    client.on_connect = lambda *_a: connected.set()
    try:
        client.connect(settings.host, settings.port, keepalive=settings.keepalive_s)
        client.loop_start()
        if not connected.wait(timeout_s):
            raise PublishFailed(f"broker {settings.host}:{settings.port} did not accept the hub")
        info = client.publish(name, encode_message(signed), qos=1, retain=True)
        info.wait_for_publish(timeout_s)
        if not info.is_published():
            raise PublishFailed(f"broker did not acknowledge {name} within {timeout_s} s")
    except OSError as exc:
        raise PublishFailed(f"cannot reach broker {settings.host}:{settings.port}: {exc}") from None
    finally:
        client.loop_stop()
        client.disconnect()
    log.info("configuration version %d published on %s", document.version, name)


def handle_report(engine: Engine, topic_name: str, payload: bytes) -> bool:
    """Store one config_status message; False (logged) when it is malformed."""
    try:
        address = parse_topic(topic_name)
        if address.kind != Kind.CONFIG_STATUS:
            raise TopicError(f"{topic_name} is not a config_status topic")
        said = decode_message(payload, ConfigReport)
    except (TopicError, MessageError) as exc:
        log.warning("configuration report on %s refused: %s", topic_name, exc)
        return False
    with session_scope(engine, org_id=address.org_id) as session:
        service.record_report(
            session=session, org_id=address.org_id, station_id=address.station_id, said=said
        )
    level = logging.INFO if said.outcome.value == "applied" else logging.WARNING
    log.log(level, "station %s: configuration %s %s%s", address.station_id, said.version,
            said.outcome.value, f" ({said.reason})" if said.reason else "")  # fmt: skip
    return True


class ConfigReportsWorker(Subscriber):
    """Every station's config_status into the serving database (persistent session, QoS 1)."""

    name = "config-reports"

    def __init__(self, settings: HubSettings, engine: Engine) -> None:
        super().__init__(
            settings,
            client_id=f"{settings.ingest.client_id}-config",
            filters=[subscription(Kind.CONFIG_STATUS)],
        )
        self.engine = engine

    def handle(self, client: paho.Client, message: paho.MQTTMessage) -> None:
        handle_report(self.engine, message.topic, bytes(message.payload))


def wait_for_report(
    settings: MqttSettings, *, org_id: str, station_id: str, version: int, timeout_s: float
) -> ConfigReport | None:
    """The station's report on `version` (None if it said nothing within `timeout_s`)."""
    found: list[ConfigReport] = []
    done = threading.Event()

    def on_message(_c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        try:
            said = decode_message(bytes(message.payload), ConfigReport)
        except MessageError:
            return
        if said.version == version:
            found.append(said)
            done.set()

    client = make_client(settings, client_id=f"altaviz-hub-config-wait-{time.monotonic_ns()}")
    client.on_connect = lambda c, *_a: c.subscribe(
        topic(org_id, station_id, Kind.CONFIG_STATUS), qos=1
    )
    client.on_message = on_message
    client.connect(settings.host, settings.port, keepalive=settings.keepalive_s)
    client.loop_start()
    try:
        done.wait(timeout_s)
    finally:
        client.loop_stop()
        client.disconnect()
    return found[-1] if found else None
