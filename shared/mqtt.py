"""MQTT connection settings and client construction shared by the edge and the hub."""

from __future__ import annotations

import ssl
from pathlib import Path

import paho.mqtt.client as paho
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
    reconnect_min_s: float = Field(0.5, gt=0)
    reconnect_max_s: float = Field(30.0, gt=0)


def make_client(settings: MqttSettings, *, client_id: str, manual_ack: bool = False) -> paho.Client:
    """A paho client configured from settings; the caller sets callbacks and connects."""
    protocol = paho.MQTTv5 if settings.protocol == "5" else paho.MQTTv311
    client = paho.Client(
        callback_api_version=paho.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        protocol=protocol,
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
    client.reconnect_delay_set(
        min_delay=max(1, int(settings.reconnect_min_s)), max_delay=int(settings.reconnect_max_s)
    )
    # Unlimited in-flight window is paho's default for QoS 1; we bound it ourselves
    # (the agent's window), so allow what we send.
    client.max_inflight_messages_set(1000)
    return client
