"""The agent's status: the StationStatus message and the document the file, HTTP and CLI show."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict
from typing import TYPE_CHECKING, Any, TypeVar

from edge_agent import __version__
from edge_agent.gateway import STORAGE_ERRORS
from shared.messages import StationStatus

if TYPE_CHECKING:
    from edge_agent.agent import Agent


T = TypeVar("T")


def _stored(read: Callable[[], T], last: T) -> T:
    """What the buffer says, or what it said last while it cannot be read (closed, failing)."""
    try:
        return read()
    except STORAGE_ERRORS:
        return last


def station_status(agent: Agent, *, online: bool) -> StationStatus:
    stats = agent.stats
    model = agent.models.running
    forced_out_ranges = (
        _stored(agent.buffer.forced_out_ranges, agent.snapshot.get("forced_out_ranges", []))
        if stats.forced_out_readings
        else []
    )
    return StationStatus(
        online=online,
        agent_version=__version__,
        model_id=model.manifest.model_id if model else None,
        model_version=model.version if model else None,
        last_model_update=agent.models.last_update,
        backlog_readings=stats.pending_readings + stats.unbatched_readings,
        unacked_batches=stats.pending_batches,
        last_seq=stats.last_seq,
        active_alarms=agent.tracker.active,
        panels=agent.panels(),
        forced_out_readings=stats.forced_out_readings,
        forced_out_ranges=forced_out_ranges,
        buffer_bytes=stats.usage_bytes,
        clock_jumps=int(getattr(agent.source, "clock_jumps", 0)),
        config_version=agent.config.running.version,
        hub_clock_skew_s=agent.clock.hub_skew_s,
        panel_clock_skew_s=agent.clock.document(agent.panels())["panel_skew_s"],
        storage_state=agent.storage.state,
    )


def snapshot_document(agent: Agent, *, online: bool) -> dict[str, Any]:
    """The status document: what the file, /status, /metrics, /health and the page show."""
    status = station_status(agent, online=online)
    model = agent.models.running
    cpu = agent.process.cpu_times()
    counters = asdict(agent.sender.counters)
    last_alarms = agent.snapshot.get("alarms") or {}
    return {
        **status.model_dump(mode="json"),
        "org_id": agent.settings.org_id,
        "station_id": agent.settings.station_id,
        "link": "up" if agent.uplink.connected else "down",
        "pid": os.getpid() if online else None,
        "http": agent.http.address if agent.http else None,
        "loop_at_epoch": time.time(),
        "buffer": {
            k: (v.isoformat() if hasattr(v, "isoformat") else v)
            for k, v in asdict(agent.stats).items()
        },
        "buffer_cap_bytes": agent.settings.buffer.max_bytes,
        "uplink": {
            **counters,
            "inflight": agent.sender.inflight,
            "draining_backlog": agent.sender.draining_backlog,
            "bytes_per_reading": round(agent.sender.bytes_per_reading, 2),
        },
        "sent_batches": counters["sent_batches"],
        "acked_batches": counters["acked_batches"],
        "alarms": {
            "active": agent.tracker.active,
            "unpublished": _stored(
                agent.alarm_store.pending_count, last_alarms.get("unpublished", 0)
            ),
            "recent": _stored(
                lambda: agent.alarm_store.recent(limit=10), last_alarms.get("recent", [])
            ),
        },
        "model": {
            "model_id": model.manifest.model_id if model else None,
            "version": model.version if model else None,
            "candidate": agent.models.candidate_label,
            "previous": agent.models.updater.store.previous if agent.models.updater else None,
        },
        "readings_scored": agent.scorer.rows_scored,
        "last_values": agent.last_values.document(),
        "annunciation": agent.site.status(),
        "config": agent.config.document(),
        "storage": agent.storage.document(),
        "clock": agent.clock.document(agent.panels()),
        "process": {
            "cpu_seconds": round(cpu.user + cpu.system, 3),
            "rss_bytes": agent.process.memory_info().rss,
        },
    }
