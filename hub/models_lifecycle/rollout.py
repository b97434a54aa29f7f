"""Staged rollout over the retained model topic: canary stations first, then the fleet.

The hub publishes a retained `ModelOffer` on `altaviz/v1/{org}/{station}/model` and
watches the stations' retained status (`StationStatus`): a station has taken a
version when it reports running it; it has refused it when its `last_model_update`
names that version with another outcome. The fleet gets the offer only after every
canary has taken it. Rolling back is offering the previous champion to every station.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho

from hub.models_lifecycle.bundle_urls import BundleUrls
from hub.models_lifecycle.registry import ModelRegistry, RegisteredModel
from shared.errors import MessageError
from shared.messages import ModelOffer, StationStatus, UpdateOutcome, decode_message, encode_message
from shared.mqtt import MqttSettings, connect_async, make_client
from shared.topics import Kind, parse_topic, subscription, topic

log = logging.getLogger(__name__)


class FleetLink:
    """The hub's MQTT client for offers: publishes retained offers, tracks station statuses."""

    def __init__(
        self, settings: MqttSettings, *, org_id: str, client_id: str = "altaviz-hub-models",
        urls: BundleUrls | None = None,
    ) -> None:  # fmt: skip
        self.org_id = org_id
        #: Signs each station's bundle URL (the bundle server serves only signed ones).
        self.urls = urls
        self.statuses: dict[str, StationStatus] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)
        self.connected = threading.Event()
        self._client = make_client(settings, client_id=client_id)
        self._client.on_connect = self._on_connect
        self._client.on_message = self._on_message
        self._client.on_disconnect = lambda *_a: self.connected.clear()
        connect_async(self._client, settings)
        self._client.loop_start()

    def close(self) -> None:
        self._client.loop_stop()
        self._client.disconnect()

    def __enter__(self) -> FleetLink:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def wait_connected(self, timeout_s: float) -> None:
        if not self.connected.wait(timeout_s):
            raise TimeoutError(f"the MQTT broker did not accept the hub within {timeout_s} s")

    def _on_connect(
        self, client: paho.Client, _userdata: Any, _flags: Any, reason: Any, *_: Any
    ) -> None:
        if getattr(reason, "is_failure", False):
            log.error("MQTT connect refused: %s", reason)
            return
        client.subscribe(subscription(Kind.STATUS, org_id=self.org_id), qos=1)
        self.connected.set()

    def _on_message(self, _client: paho.Client, _userdata: Any, message: paho.MQTTMessage) -> None:
        try:
            address = parse_topic(message.topic)
            status = decode_message(message.payload, StationStatus)
        except (MessageError, ValueError) as exc:
            log.warning("ignored status on %s: %s", message.topic, exc)
            return
        with self._changed:
            self.statuses[address.station_id] = status
            self._changed.notify_all()

    def publish_offer(self, station_id: str, offer: ModelOffer, *, timeout_s: float = 10.0) -> None:
        if self.urls is not None and offer.bundle_url.startswith(("http://", "https://")):
            path = "/" + "/".join(urlsplit(offer.bundle_url).path.split("/")[-4:])
            signed = self.urls.sign(offer.bundle_url, path=path, station_id=station_id)
            offer = offer.model_copy(update={"bundle_url": signed})
        info = self._client.publish(
            topic(self.org_id, station_id, Kind.MODEL), encode_message(offer), qos=1, retain=True
        )
        info.wait_for_publish(timeout_s)

    def wait_for(self, predicate: Any, *, timeout_s: float) -> bool:
        """Wait until `predicate(statuses)` is true (re-checked on every status message)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not predicate(dict(self.statuses)):
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(min(left, 1.0))
        return True


def station_verdict(status: StationStatus | None, model_id: str, version: str) -> str | None:
    """'running' when the station runs the version, 'refused' when it turned it down, else None."""
    if status is None:
        return None
    if status.model_id == model_id and status.model_version == version:
        return "running"
    update = status.last_model_update
    same = update is not None and (update.model_id, update.version) == (model_id, version)
    if same and update is not None and update.outcome != UpdateOutcome.PROMOTED:
        return "refused"
    return None


@dataclass
class RolloutResult:
    model_id: str
    version: str
    running: list[str] = field(default_factory=list)
    refused: dict[str, str] = field(default_factory=dict)
    silent: list[str] = field(default_factory=list)
    not_offered: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return not (self.refused or self.silent or self.not_offered)

    def lines(self) -> list[str]:
        label = f"{self.model_id}@{self.version}"
        lines = [
            f"{label}: running on {len(self.running)} station(s): {', '.join(self.running) or '-'}"
        ]
        for station, reason in self.refused.items():
            lines.append(f"  {station} refused it: {reason}")
        if self.silent:
            lines.append(f"  no report in time from: {', '.join(self.silent)}")
        if self.not_offered:
            lines.append(f"  not offered (canary stage failed): {', '.join(self.not_offered)}")
        return lines


def _stage(
    link: FleetLink,
    registry: ModelRegistry,
    model: RegisteredModel,
    offer: ModelOffer,
    stations: list[str],
    *,
    state: str,
    timeout_s: float,
    result: RolloutResult,
    running_state: str = "promoted",
) -> bool:
    """Offer to `stations`, wait for each to run or refuse it; record deployments
    (`state` while offered, `running_state` once a station runs the version)."""
    if not stations:
        return True
    for station in stations:
        link.publish_offer(station, offer)
        registry.record_deployment(
            station_id=station, model_id=model.model_id, state=state, offered=model.version
        )
    log.info("offered %s@%s to %s", model.model_id, model.version, ", ".join(stations))

    def settled(statuses: dict[str, StationStatus]) -> bool:
        return all(
            station_verdict(statuses.get(s), model.model_id, model.version) for s in stations
        )

    link.wait_for(settled, timeout_s=timeout_s)
    now = datetime.now(UTC)
    ok = True
    for station in stations:
        status = link.statuses.get(station)
        verdict = station_verdict(status, model.model_id, model.version)
        if verdict == "running":
            result.running.append(station)
            update = status.last_model_update if status else None
            registry.record_deployment(
                station_id=station, model_id=model.model_id, state=running_state,
                running=model.version, reported_at=now,
                message=update.reason if update and update.reason else None,
            )  # fmt: skip
        elif verdict == "refused":
            ok = False
            reason = status.last_model_update.reason if status and status.last_model_update else ""
            result.refused[station] = reason or "refused"
            registry.record_deployment(
                station_id=station, model_id=model.model_id, state="failed",
                message=reason, reported_at=now,
            )  # fmt: skip
        else:
            ok = False
            result.silent.append(station)
    return ok


def roll_out(
    link: FleetLink,
    registry: ModelRegistry,
    model: RegisteredModel,
    *,
    stations: list[str],
    canary: list[str],
    base_url: str,
    canary_timeout_s: float,
    fleet_timeout_s: float,
    champion: RegisteredModel | None = None,
) -> RolloutResult:
    """Canary stations first; the rest only when every canary runs the new version.

    If a canary refuses it (or stays silent), the canaries' retained offer goes back to
    `champion`, so a station that restarts or joins later is offered what the fleet runs.
    """
    offer = model.offer(base_url)
    result = RolloutResult(model.model_id, model.version)
    canaries = [s for s in stations if s in canary]
    rest = [s for s in stations if s not in canary]
    if not _stage(link, registry, model, offer, canaries, state="canary",
                  timeout_s=canary_timeout_s, result=result):  # fmt: skip
        result.not_offered = rest
        if champion is not None:
            for station in canaries:
                link.publish_offer(station, champion.offer(base_url))
        return result
    _stage(
        link,
        registry,
        model,
        offer,
        rest,
        state="pending",
        timeout_s=fleet_timeout_s,
        result=result,
    )
    return result


def offer_everywhere(
    link: FleetLink,
    registry: ModelRegistry,
    model: RegisteredModel,
    *,
    stations: list[str],
    base_url: str,
    timeout_s: float,
) -> RolloutResult:
    """Offer one version to every station at once (rollback: the known-good version)."""
    result = RolloutResult(model.model_id, model.version)
    _stage(link, registry, model, model.offer(base_url), stations, state="pending",
           timeout_s=timeout_s, result=result, running_state="rolled_back")  # fmt: skip
    return result
