"""A hub stand-in for configuration tests: publishes documents, collects the station's reports."""

from __future__ import annotations

import base64
import threading
from typing import Any

import paho.mqtt.client as paho

from shared.bundle import canonical_json
from shared.messages import decode_message
from shared.station_config import ConfigReport, SignedStationConfig, sign_config

PREFIX = "altaviz/v1/org-a/STATION-1"


class ConfigDesk:
    def __init__(self, port: int) -> None:
        self.reports: list[ConfigReport] = []
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="config-desk")
        self.client.on_connect = lambda c, *_a: (
            c.subscribe(f"{PREFIX}/config_status", 1),
            self._subscribed.set(),
        )
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.loop_start()
        assert self._subscribed.wait(10)

    def _on_message(self, _c: Any, _u: Any, message: paho.MQTTMessage) -> None:
        with self._lock:
            self.reports.append(decode_message(message.payload, ConfigReport))

    def report_for(self, version: int | None) -> ConfigReport | None:
        with self._lock:
            found = [r for r in self.reports if r.version == version]
        return found[-1] if found else None

    def publish_raw(self, payload: bytes) -> None:
        self.client.publish(f"{PREFIX}/config", payload, qos=1, retain=True).wait_for_publish(5)

    def push(self, key: Any, **document: Any) -> SignedStationConfig:
        from shared.station_config import StationConfigDocument

        signed = sign_config(
            StationConfigDocument(org_id="org-a", station_id="STATION-1", **document), key
        )
        self.publish_raw(signed.model_dump_json().encode())
        return signed

    def push_signed_dict(self, key: Any, document: dict[str, Any]) -> None:
        """Sign a document as given, even one the hub's own schema would refuse."""
        signature = base64.b64encode(key.sign(canonical_json(document))).decode()
        self.publish_raw(canonical_json({"document": document, "signature": signature}))

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()
