"""What the agent keeps for the people on site: last values per compressor, the annunciation."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from edge_agent.alarms import AlarmStore
from edge_agent.annunciation import AnnunciationSettings, Annunciator, OpenEpisode
from shared.messages import Alarm
from shared.schema import SENSOR_FIELDS, Quality
from shared.sources import RawReading

log = logging.getLogger(__name__)


class LastValues:
    """The newest reading of each compressor (values with their quality), for the local page."""

    def __init__(self) -> None:
        # Only a reference per poll: the document is built when the status is (every 2 s).
        self._by_compressor: dict[str, RawReading] = {}

    def update(self, readings: Sequence[RawReading]) -> None:
        for reading in readings:
            self._by_compressor[reading.compressor_id] = reading

    def document(self) -> dict[str, dict[str, Any]]:
        return {k: _describe(self._by_compressor[k]) for k in sorted(self._by_compressor)}


def _describe(reading: RawReading) -> dict[str, Any]:
    return {
        "at": reading.timestamp.isoformat(),
        "state": str(reading.operating_state),
        "values": {
            s: {
                "value": reading.values.get(s),
                "quality": Quality(reading.quality.get(s, Quality.OK)).name.lower(),
            }
            for s in SENSOR_FIELDS
        },
    }


class SiteAlarms:
    """Feeds open episodes to the annunciator and records the technician's acknowledgements."""

    def __init__(self, settings: AnnunciationSettings, store: AlarmStore) -> None:
        self.store = store
        self.annunciator = Annunciator(settings) if settings.enabled else None
        self.station_fault = False
        self._settings = settings

    def start(self) -> None:
        if self.annunciator is not None:
            self.annunciator.start()
            self.refresh()

    def stop(self) -> None:
        if self.annunciator is not None:
            self.annunciator.stop()

    def replace(self, settings: AnnunciationSettings) -> None:
        """A new annunciation mapping (remote configuration): restart on the new device."""
        if settings == self._settings:
            return
        self.stop()
        self._settings = settings
        self.annunciator = Annunciator(settings) if settings.enabled else None
        self.start()

    def refresh(self) -> None:
        """Tell the annunciator which episodes are open (after a raise, clear or ack)."""
        if self.annunciator is None:
            return
        episodes = [OpenEpisode(e, s, a) for e, s, a in self.store.annunciated()]
        self.annunciator.set_episodes(episodes, station_fault=self.station_fault)

    def set_station_fault(self, fault: bool) -> None:
        if fault != self.station_fault:
            self.station_fault = fault
            if self.annunciator is not None:
                self.annunciator.set_episodes(
                    [OpenEpisode(e, s, a) for e, s, a in self._safe_annunciated()],
                    station_fault=fault,
                )

    def _safe_annunciated(self) -> list[tuple[Any, Any, bool]]:
        try:
            return list(self.store.annunciated())
        except Exception:  # the buffer itself may be what failed
            return []

    def take_acks(self, *, org_id: str, station_id: str) -> list[tuple[int, Alarm]]:
        """Record acknowledge presses on every open episode; the alarm events to publish."""
        if self.annunciator is None:
            return []
        presses = self.annunciator.take_acks()
        if not presses:
            return []
        ack = self._settings.ack
        by = f"local {ack.kind} {ack.address} on {self.annunciator.device}" if ack else "local"
        queued = self.store.acknowledge_open(
            at=presses[-1], by=by, org_id=org_id, station_id=station_id
        )
        log.warning("%d open alarm episode(s) acknowledged on site", len(queued))
        self.refresh()
        return queued

    def status(self) -> dict[str, Any] | None:
        return self.annunciator.status() if self.annunciator is not None else None
