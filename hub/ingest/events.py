"""Station events at the hub: each edge agent's retained status and the alarms it raised.

The edge publishes its status (retained; its last will marks it offline) and every
alarm episode it opens or closes on site. The hub keeps the latest of each in the
serving database (`station_links`, `edge_alarms`) for the portal. Messages may arrive
twice (QoS 1) or out of order (a retained status replayed after a newer one, a
`raised` re-delivered after its `cleared`): an older status never overwrites a newer
one (except the last will, stamped when the agent connected) and a cleared alarm
stays cleared. A message whose body names another org or
station than its topic is refused, and a malformed one is logged and dropped (the
broker's ACL already limits each station to its own topics).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime

import paho.mqtt.client as paho
from sqlalchemy import Engine, or_
from sqlalchemy.exc import IntegrityError

from hub.db.base import as_utc
from hub.db.session import session_scope
from hub.ingest.subscriber import Subscriber
from hub.serving.models import EdgeAlarm, StationLink
from hub.serving.upsert import upsert
from hub.settings import HubSettings
from shared.errors import MessageError, TopicError
from shared.messages import Alarm, AlarmEvent, StationStatus, decode_message
from shared.topics import Kind, TopicAddress, parse_topic, subscription

log = logging.getLogger(__name__)

#: Alarm fields stored as they are (the rest are converted below).
ALARM_COLUMNS = (
    "org_id", "episode_id", "station_id", "compressor_id", "condition",
    "metric", "value", "threshold", "peak_value", "model_version", "message",
)  # fmt: skip


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    return as_utc(datetime.fromisoformat(value))


@dataclass
class EventCounts:
    statuses: int = 0
    alarms_raised: int = 0
    alarms_cleared: int = 0
    refused: int = 0


class StationEvents:
    """What the hub does with one status or alarm message, independent of MQTT."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.counts = EventCounts()

    def handle(self, topic_name: str, payload: bytes) -> bool:
        """Store the message; False (logged, counted) when it was refused."""
        try:
            address = parse_topic(topic_name)
            if address.kind == Kind.STATUS:
                self._status(address, decode_message(payload, StationStatus))
                self.counts.statuses += 1
            elif address.kind == Kind.ALARMS:
                alarm = decode_message(payload, Alarm)
                self._alarm(address, alarm)
                if alarm.event == AlarmEvent.CLEARED:
                    self.counts.alarms_cleared += 1
                else:
                    self.counts.alarms_raised += 1
            else:
                raise TopicError(f"topic {topic_name!r} carries neither status nor alarms")
        except (TopicError, MessageError, ValueError) as exc:
            return self._refuse(topic_name, str(exc))
        except IntegrityError as exc:
            # The station or compressor is not registered for that org (the portal's
            # settings add stations; the pipeline seeds the fleet file's).
            return self._refuse(topic_name, f"unknown station or compressor: {exc.orig}")
        return True

    def _refuse(self, topic_name: str, reason: str) -> bool:
        self.counts.refused += 1
        log.warning("station event on %s refused: %s", topic_name, reason)
        return False

    def _status(self, address: TopicAddress, status: StationStatus) -> None:
        row = {
            "org_id": address.org_id,
            "station_id": address.station_id,
            "online": status.online,
            "agent_version": status.agent_version,
            "model_id": status.model_id,
            "model_version": status.model_version,
            "last_model_update": (
                status.last_model_update.model_dump(mode="json")
                if status.last_model_update
                else None
            ),
            "backlog_readings": status.backlog_readings,
            "unacked_batches": status.unacked_batches,
            "last_seq": status.last_seq,
            "active_alarms": status.active_alarms,
            "forced_out_readings": status.forced_out_readings,
            "clock_jumps": status.clock_jumps,
            "buffer_bytes": status.buffer_bytes,
            "panels": {k: v.model_dump(mode="json") for k, v in status.panels.items()},
            "reported_at": _moment(status.at),
            "received_at": datetime.now(UTC),
        }
        # The last will carries only `online: false` (the agent set it when it connected):
        # it marks the station offline and keeps what the agent reported last.
        bare_will = not status.online and status.last_seq is None
        with session_scope(self.engine, org_id=address.org_id) as session:
            upsert(
                session,
                StationLink.__table__,  # type: ignore[arg-type]
                [row],
                update=["online", "received_at"] if bare_will else None,
                # A report older than the stored one is a late re-delivery, except the last
                # will: the broker sends it when the agent vanishes, stamped when it was set.
                where=lambda table, new: or_(
                    table.c.reported_at <= new.reported_at, new.online.is_(False)
                ),
            )

    def _alarm(self, address: TopicAddress, alarm: Alarm) -> None:
        if (alarm.org_id, alarm.station_id) != (address.org_id, address.station_id):
            raise ValueError(
                f"alarm for {alarm.org_id}/{alarm.station_id} published under "
                f"{address.org_id}/{address.station_id}"
            )
        row = {
            **alarm.model_dump(include=set(ALARM_COLUMNS)),
            "severity": alarm.severity.value,
            "event": alarm.event.value,
            "raised_at": _moment(alarm.raised_at),
            "cleared_at": _moment(alarm.cleared_at),
            "received_at": datetime.now(UTC),
        }
        with session_scope(self.engine, org_id=address.org_id) as session:
            upsert(
                session,
                EdgeAlarm.__table__,  # type: ignore[arg-type]
                [row],
                # A re-delivered `raised` never reopens a cleared episode.
                where=lambda table, new: or_(table.c.event != "cleared", new.event == "cleared"),
            )


class StationEventsWorker(Subscriber):
    """Subscribes to every station's status and alarms (persistent session, QoS 1)."""

    name = "station-events"

    def __init__(
        self, settings: HubSettings, engine: Engine, *, client_id: str | None = None
    ) -> None:
        super().__init__(
            settings,
            client_id=client_id or f"{settings.ingest.client_id}-events",
            filters=[subscription(Kind.STATUS), subscription(Kind.ALARMS)],
        )
        self.events = StationEvents(engine)

    def handle(self, client: paho.Client, message: paho.MQTTMessage) -> None:
        # Refused messages return normally (logged, counted) and are acknowledged; a
        # database error raises, so the broker delivers the message again.
        self.events.handle(message.topic, message.payload)
