"""Delta maintenance on a schedule: compaction (OPTIMIZE) and VACUUM with a safe retention.

Run between silver/gold micro-batches, by the only process that writes those tables,
so a compaction never races a MERGE. The schedule's memory is the tables' own Delta
history (when OPTIMIZE last ran), so a restart does not compact again too soon.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from hub.lakehouse.io import Lake
from hub.lakehouse.tables import ALL_TABLES, SILVER_READINGS
from hub.settings import PipelineSettings

log = logging.getLogger(__name__)


class Schedule:
    def __init__(self, lake: Lake, settings: PipelineSettings) -> None:
        self.lake = lake
        self.settings = settings
        self.done: list[str] = []
        self._last_run: float | None = None

    def _seconds_since_last(self) -> float:
        if self._last_run is None:
            last = self.lake.last_operation_at(SILVER_READINGS, "OPTIMIZE")
            if last is None:
                created = self.lake.history(SILVER_READINGS, 1000).agg({"timestamp": "min"}).first()
                last = created[0] if created and created[0] else datetime.now()
            self._last_run = time.time() - (datetime.now() - last).total_seconds()
        return time.time() - self._last_run

    def run_if_due(self) -> bool:
        interval_h = self.settings.maintenance_interval_h
        if interval_h <= 0 or self._seconds_since_last() < interval_h * 3600:
            return False
        self.run()
        return True

    def run(self) -> None:
        """Compact and vacuum every table that exists."""
        started = time.monotonic()
        for spec in ALL_TABLES:
            if not self.lake.exists(spec):
                continue
            self.lake.optimize(spec)
            self.lake.vacuum(spec, self.settings.vacuum_retention_h)
            self.done.append(f"{spec.layer}/{spec.name}")
        self._last_run = time.time()
        log.info(
            "maintenance: OPTIMIZE + VACUUM (retain %.0f h) on %d table(s) in %.1fs at %s",
            self.settings.vacuum_retention_h, len(self.done), time.monotonic() - started,
            datetime.now(UTC).isoformat(timespec="seconds"),
        )  # fmt: skip
