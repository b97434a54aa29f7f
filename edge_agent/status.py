"""What the agent shows: the status document (file, MQTT) and Prometheus metrics."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

_LABEL_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n"})


def write_status_file(path: Path, document: dict[str, Any]) -> None:
    """Atomically replace the JSON file `altaviz-edge status` reads."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(document, indent=2, default=str))
    os.replace(tmp, path)


def _labels(labels: dict[str, object]) -> str:
    if not labels:
        return ""
    inner = ",".join(f'{k}="{str(v).translate(_LABEL_ESCAPES)}"' for k, v in labels.items())
    return "{" + inner + "}"


class _Metrics:
    def __init__(self) -> None:
        self.lines: list[str] = []

    def add(
        self,
        name: str,
        kind: str,
        help_text: str,
        samples: list[tuple[dict[str, object], float | int | None]],
    ) -> None:
        self.lines.append(f"# HELP {name} {help_text}")
        self.lines.append(f"# TYPE {name} {kind}")
        for labels, value in samples:
            self.lines.append(f"{name}{_labels(labels)} {float(value or 0):g}")


def render_metrics(doc: dict[str, Any]) -> str:
    """Prometheus text exposition format (0.0.4) of a status document."""
    m = _Metrics()
    buffer = doc.get("buffer", {})
    uplink = doc.get("uplink", {})
    alarms = doc.get("alarms", {})
    process = doc.get("process", {})

    def gauge(name: str, help_text: str, value: float | int | None) -> None:
        m.add(f"altaviz_edge_{name}", "gauge", help_text, [({}, value)])

    def counter(name: str, help_text: str, value: float | int | None) -> None:
        m.add(f"altaviz_edge_{name}", "counter", help_text, [({}, value)])

    gauge("link_up", "1 when connected to the hub broker", 1 if doc.get("link") == "up" else 0)
    gauge("last_seq", "Newest per-station sequence number stored", buffer.get("last_seq"))
    gauge(
        "backlog_readings", "Readings not yet acknowledged by the hub", doc.get("backlog_readings")
    )
    gauge(
        "unacked_batches", "Batches recorded and not yet acknowledged", doc.get("unacked_batches")
    )
    gauge(
        "inflight_batches", "Batches published and awaiting the hub's ack", uplink.get("inflight")
    )
    gauge("buffer_bytes", "Disk used by the DuckDB buffer", buffer.get("usage_bytes"))
    gauge("buffer_cap_bytes", "Hard cap on the buffer's disk use", doc.get("buffer_cap_bytes"))
    gauge("readings_stored", "Readings held in the buffer", buffer.get("readings_stored"))
    counter(
        "forced_out_readings_total",
        "UNACKNOWLEDGED readings the disk cap deleted (data loss)",
        buffer.get("forced_out_readings"),
    )
    counter(
        "early_purged_readings_total",
        "Acknowledged readings deleted before their retention ended (disk cap)",
        buffer.get("early_purged_readings"),
    )
    counter("sent_batches_total", "Batches published", uplink.get("sent_batches"))
    counter(
        "sent_readings_total", "Readings published (re-sends included)", uplink.get("sent_readings")
    )
    counter("sent_bytes_total", "Batch payload bytes published", uplink.get("sent_bytes"))
    counter(
        "acked_batches_total",
        "Batches the hub acknowledged as durable",
        uplink.get("acked_batches"),
    )
    counter(
        "resent_batches_total",
        "Batches sent again after an ack timeout",
        uplink.get("resent_batches"),
    )
    counter("rejected_batches_total", "Batches the hub quarantined", uplink.get("rejected_batches"))
    gauge("alarms_active", "Open alarm episodes", alarms.get("active"))
    gauge(
        "alarm_events_unpublished", "Alarm events waiting for the uplink", alarms.get("unpublished")
    )
    counter("readings_scored_total", "Readings scored locally", doc.get("readings_scored"))
    counter("clock_jumps_total", "Gateway clock jumps detected", doc.get("clock_jumps"))
    model = doc.get("model", {})
    m.add(
        "altaviz_edge_model_info",
        "gauge",
        "The model running (1), by id and version",
        [({"model_id": model.get("model_id") or "", "version": model.get("version") or ""}, 1)]
        if model.get("version")
        else [],
    )
    update = doc.get("last_model_update") or {}
    if update:
        m.add(
            "altaviz_edge_model_update_info",
            "gauge",
            "Outcome of the last model update",
            [({"version": update.get("version"), "outcome": update.get("outcome")}, 1)],
        )
    panels = doc.get("panels", {})
    m.add(
        "altaviz_edge_panel_up",
        "gauge",
        "1 when the panel answered its last poll",
        [({"panel": name}, 1 if p.get("state") == "ok" else 0) for name, p in panels.items()],
    )
    m.add(
        "altaviz_edge_panel_failed_polls_total",
        "counter",
        "Polls that ended in comm_error or device_exception",
        [({"panel": name}, p.get("failed_polls")) for name, p in panels.items()],
    )
    storage = doc.get("storage") or {}
    gauge("storage_ok", "1 while the buffer takes writes (0: disk full, read-only)",
          1 if storage.get("state", "ok") == "ok" else 0)  # fmt: skip
    gauge("held_readings", "Readings held in memory while the buffer refuses writes",
          storage.get("held_readings"))  # fmt: skip
    counter("refused_readings_total", "New readings refused while the buffer could not be written",
            storage.get("refused_readings"))  # fmt: skip
    counter("lost_readings_total", "Acknowledged readings a failing file system lost for good",
            storage.get("lost_readings"))  # fmt: skip
    gauge("config_version", "Remote configuration version running (0: the file's)",
          doc.get("config_version"))  # fmt: skip
    clock = doc.get("clock") or {}
    if clock.get("hub_skew_s") is not None:
        gauge("hub_clock_skew_seconds", "Agent clock minus the hub's", clock.get("hub_skew_s"))
    m.add(
        "altaviz_edge_panel_clock_skew_seconds",
        "gauge",
        "Agent clock minus the panel's",
        [({"panel": name}, skew) for name, skew in (clock.get("panel_skew_s") or {}).items()],
    )
    annunciation = doc.get("annunciation")
    if annunciation:
        gauge("annunciation_up", "1 when the horn/beacon device answered its last poll",
              1 if annunciation.get("state") == "ok" else 0)  # fmt: skip
        m.add(
            "altaviz_edge_annunciation_output_on",
            "gauge",
            "1 while an output (horn, beacon) is written on",
            [({"output": n}, 1 if o.get("written") == "on" else 0)
             for n, o in annunciation.get("outputs", {}).items()],
        )  # fmt: skip
    gauge("cpu_seconds", "CPU seconds used by the agent process", process.get("cpu_seconds"))
    gauge("resident_memory_bytes", "Resident memory of the agent process", process.get("rss_bytes"))
    return "\n".join(m.lines) + "\n"
