"""Which stations the hub knows: a batch for an org or station it does not know is refused.

The serving database's `stations` table is the directory (the fleet file seeds it,
`altaviz-hub stations provision` adds to it). Lookups are cached: a known station for
`known_ttl_s`, an unknown one for `unknown_ttl_s` (so a publisher naming made-up
stations costs one query per name per few seconds, not one per message). When the
database cannot answer, a station known before stays accepted and an unseen one raises
(the message is not acknowledged and comes again), so a database blip refuses nothing.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from hub.db.models import Station
from hub.db.session import session_scope
from hub.errors import HubError

log = logging.getLogger(__name__)


class DirectoryUnavailable(HubError):
    """The station directory (serving database) cannot answer now."""


class StationDirectory:
    def __init__(
        self, engine: Engine, *, known_ttl_s: float = 60.0, unknown_ttl_s: float = 5.0
    ) -> None:
        self.engine = engine
        self.known_ttl_s = known_ttl_s
        self.unknown_ttl_s = unknown_ttl_s
        self._cache: dict[tuple[str, str], tuple[bool, float]] = {}
        self._ever_known: set[tuple[str, str]] = set()
        self._lock = threading.Lock()

    def is_known(self, org_id: str, station_id: str) -> bool:
        key = (org_id, station_id)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached is not None and cached[1] > now:
            return cached[0]
        try:
            known = self._lookup(org_id, station_id)
        except SQLAlchemyError as exc:
            if key in self._ever_known:
                log.warning("station directory unavailable (%s); %s/%s known before", exc, *key)
                return True
            raise DirectoryUnavailable(f"station directory unavailable: {exc}") from exc
        ttl = self.known_ttl_s if known else self.unknown_ttl_s
        with self._lock:
            self._cache[key] = (known, now + ttl)
            if known:
                self._ever_known.add(key)
            else:
                self._ever_known.discard(key)
        return known

    def forget(self, org_id: str, station_id: str) -> None:
        with self._lock:
            self._cache.pop((org_id, station_id), None)

    def _lookup(self, org_id: str, station_id: str) -> bool:
        # Tenant-scoped: under row-level security only this org's stations are visible.
        with session_scope(self.engine, org_id=org_id) as session:
            found = session.execute(
                select(Station.id).where(Station.org_id == org_id, Station.id == station_id)
            ).first()
        return found is not None
