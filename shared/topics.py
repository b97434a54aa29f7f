"""MQTT topic names, v1: altaviz/v1/{org}/{station}/{kind}."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from shared.errors import InvalidIdentifier, TopicError
from shared.ids import check_id

ROOT = "altaviz"
VERSION = "v1"


class Kind(StrEnum):
    TELEMETRY = "telemetry"  # edge -> hub, Parquet batch, QoS 1
    ACK = "ack"  # hub -> edge, batch durable or rejected
    ALARMS = "alarms"  # edge -> hub, local alarm episodes, QoS 1
    STATUS = "status"  # edge -> hub, retained; last will marks the station offline
    MODEL = "model"  # hub -> edge, retained model manifest
    CONFIG = "config"  # hub -> edge, retained signed station configuration
    CONFIG_STATUS = "config_status"  # edge -> hub, retained: the fate of the last configuration


@dataclass(frozen=True)
class TopicAddress:
    org_id: str
    station_id: str
    kind: Kind

    @property
    def topic(self) -> str:
        return topic(self.org_id, self.station_id, self.kind)


def topic(org_id: str, station_id: str, kind: Kind) -> str:
    check_id("org id", org_id)
    check_id("station id", station_id)
    return f"{ROOT}/{VERSION}/{org_id}/{station_id}/{Kind(kind).value}"


def station_prefix(org_id: str, station_id: str) -> str:
    """The topic prefix a station's credentials may use (broker ACL pattern)."""
    return f"{ROOT}/{VERSION}/{check_id('org id', org_id)}/{check_id('station id', station_id)}/"


def subscription(kind: Kind, *, org_id: str = "+", station_id: str = "+") -> str:
    """A subscription filter for one kind of message; '+' matches any org or station."""
    return f"{ROOT}/{VERSION}/{org_id}/{station_id}/{Kind(kind).value}"


def shared_subscription(group: str, kind: Kind) -> str:
    """MQTT shared subscription so several hub workers split one stream."""
    return f"$share/{check_id('share group', group)}/{subscription(kind)}"


def parse_topic(name: str) -> TopicAddress:
    parts = name.split("/")
    if len(parts) != 5 or parts[0] != ROOT or parts[1] != VERSION:
        raise TopicError(
            f"topic {name!r} is not of the form {ROOT}/{VERSION}/<org>/<station>/<kind>"
        )
    try:
        kind = Kind(parts[4])
    except ValueError:
        kinds = ", ".join(k.value for k in Kind)
        raise TopicError(f"topic {name!r} ends in {parts[4]!r}, expected one of {kinds}") from None
    try:
        org_id = check_id("org id", parts[2])
        station_id = check_id("station id", parts[3])
    except InvalidIdentifier as exc:
        raise TopicError(f"topic {name!r}: {exc}") from None
    return TopicAddress(org_id=org_id, station_id=station_id, kind=kind)
