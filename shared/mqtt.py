"""MQTT connection settings and client construction shared by the edge and the hub."""

from __future__ import annotations

import ssl
from pathlib import Path

import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from pydantic import BaseModel, ConfigDict, Field, SecretStr


class MqttSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    host: str = "127.0.0.1"
    port: int = Field(1883, ge=1, le=65535)
    username: str | None = None
    password: SecretStr | None = None
    tls: bool = False
    ca_file: Path | None = None
    keepalive_s: int = Field(30, ge=5, le=3600)
    #: MQTT protocol: 5 where the broker speaks it (mosquitto), 3.1.1 for brokers that do not.
    protocol: str = Field("5", pattern=r"^(5|3\.1\.1)$")
    #: paho doubles its wait after each failed connect from min to max: a small max means
    #: a client is back within seconds of a broker's return (30 s left batches unheard).
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(2.0, gt=0)


def make_client(
    settings: MqttSettings,
    *,
    client_id: str,
    manual_ack: bool = False,
    persistent_session: bool = False,
) -> paho.Client:
    """A paho client configured from settings; the caller sets callbacks and connects.

    With `persistent_session` the broker keeps the client's subscriptions and queues
    its QoS 1 messages while it is away (reconnecting, restarting); connect it with
    `connect_async(..., session_expiry_s=...)`.
    """
    v5 = settings.protocol == "5"
    client = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=paho.MQTTv5 if v5 else paho.MQTTv311,
        # MQTT 5 sets this per connection (clean_start); 3.1.1 per client.
        clean_session=None if v5 else not persistent_session,
        manual_ack=manual_ack,
    )
    if settings.username:
        password = settings.password.get_secret_value() if settings.password else None
        client.username_pw_set(settings.username, password)
    if settings.tls:
        client.tls_set(
            ca_certs=str(settings.ca_file) if settings.ca_file else None,
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
    # paho takes seconds as numbers (floats work); int() made 0.5 s into 0 and 1.5 s into 1.
    client.reconnect_delay_set(
        min_delay=settings.reconnect_min_s,  # type: ignore[arg-type]
        max_delay=max(settings.reconnect_max_s, settings.reconnect_min_s),  # type: ignore[arg-type]
    )
    # Unlimited in-flight window is paho's default for QoS 1; we bound it ourselves
    # (the agent's window), so allow what we send.
    client.max_inflight_messages_set(1000)
    return client


def connect_async(
    client: paho.Client, settings: MqttSettings, *, session_expiry_s: int | None = None
) -> None:
    """Connect in the background (paho reconnects by itself after a loss).

    `session_expiry_s` (MQTT 5) keeps the session that long after a disconnect, so
    the broker queues QoS 1 messages for a subscriber that is reconnecting.
    """
    if settings.protocol == "5":
        properties = None
        if session_expiry_s:
            properties = Properties(PacketTypes.CONNECT)
            properties.SessionExpiryInterval = session_expiry_s
        client.connect_async(
            settings.host,
            settings.port,
            keepalive=settings.keepalive_s,
            clean_start=not session_expiry_s,
            properties=properties,
        )
    else:
        client.connect_async(settings.host, settings.port, keepalive=settings.keepalive_s)
