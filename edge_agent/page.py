"""The local status page the agent serves on the gateway: one self-contained HTML document.

No script, font or stylesheet from anywhere else (a station has no internet); it
refreshes itself every few seconds and reads on a phone held by a technician.
"""

from __future__ import annotations

from html import escape
from typing import Any

from shared.schema import SENSOR_FIELDS

REFRESH_S = 5

_CSS = """
body{font:16px/1.4 system-ui,sans-serif;margin:0;padding:.75rem;background:#f6f7f9;color:#111}
h1{font-size:1.2rem;margin:.2rem 0}h2{font-size:1rem;margin:1rem 0 .3rem}
section{background:#fff;border-radius:6px;padding:.5rem .75rem;margin-bottom:.6rem}
table{border-collapse:collapse;width:100%;font-size:.9rem}td,th{padding:.2rem .3rem;text-align:left;
border-bottom:1px solid #eee}.bad{color:#b00020;font-weight:600}.ok{color:#0a7d32;font-weight:600}
.muted{color:#666}.kv td:first-child{color:#555;width:40%}.wide{overflow-x:auto}
"""


def _cell(value: Any) -> str:
    return escape("-" if value is None or value == "" else str(value))


def _badge(text: str, good: bool) -> str:
    return f'<span class="{"ok" if good else "bad"}">{escape(text)}</span>'


def _kv(rows: list[tuple[str, str]]) -> str:
    body = "".join(f"<tr><td>{escape(k)}</td><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="kv">{body}</table>'


def render_page(doc: dict[str, Any], health: dict[str, Any]) -> str:
    """The status document as a page: link, backlog, alarms, last values, versions."""
    buffer = doc.get("buffer") or {}
    model = doc.get("model") or {}
    config = doc.get("config") or {}
    clock = doc.get("clock") or {}
    storage = doc.get("storage") or {}
    link_up = doc.get("link") == "up"
    parts = [
        f"<h1>{_cell(doc.get('station_id'))} <span class='muted'>{_cell(doc.get('org_id'))}</span></h1>",
        f"<p>{_badge(health.get('status', '?').upper(), health.get('status') == 'ok')} "
        f"<span class='muted'>as of {_cell(doc.get('at'))}</span></p>",
    ]
    if health.get("problems"):
        items = "".join(f"<li>{escape(p)}</li>" for p in health["problems"])
        parts.append(f"<section><ul class='bad'>{items}</ul></section>")
    summary = [
        ("link to hub", _badge("up", True) if link_up else _badge("DOWN (buffering)", False)),
        ("backlog", f"{_cell(doc.get('backlog_readings'))} reading(s), "
                    f"{_cell(doc.get('unacked_batches'))} batch(es) not yet acknowledged"),
        ("buffer", f"{_cell(buffer.get('readings_stored'))} reading(s), "
                   f"{(buffer.get('usage_bytes') or 0) / 1e6:.1f} MB; last seq {_cell(buffer.get('last_seq'))}"),
        ("model", _cell(f"{model.get('model_id')}@{model.get('version')}" if model.get("version")
                        else "none (threshold rules only)")),
        ("configuration", _cell(f"version {config.get('version')} ({config.get('source')})"
                                if config else "local file")),
        ("agent", _cell(doc.get("agent_version"))),
    ]  # fmt: skip
    if clock:
        skew = clock.get("hub_skew_s")
        summary.append(("clock vs hub", _cell(None if skew is None else f"{skew:+.1f} s")))
    if storage.get("state") not in (None, "ok"):
        summary.append(
            ("storage", _badge(f"{storage.get('state')}: {storage.get('error')}", False))
        )
    parts.append(f"<section>{_kv(summary)}</section>")
    parts.append(_alarms(doc))
    parts.append(_annunciation(doc.get("annunciation")))
    parts.append(_values(doc.get("last_values") or {}, doc.get("panels") or {}))
    body = "".join(parts)
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width,initial-scale=1'>"
        f"<meta http-equiv='refresh' content='{REFRESH_S}'>"
        f"<title>{_cell(doc.get('station_id'))} · Altaviz edge</title><style>{_CSS}</style>"
        f"</head><body>{body}</body></html>"
    )


def _alarms(doc: dict[str, Any]) -> str:
    alarms = doc.get("alarms") or {}
    recent = alarms.get("recent") or []
    rows = "".join(
        "<tr>"
        f"<td>{_badge('ACTIVE', False) if not a.get('cleared_at') else 'cleared'}</td>"
        f"<td>{_cell(a.get('severity'))}</td><td>{_cell(a.get('compressor_id'))}</td>"
        f"<td>{_cell(a.get('condition'))}</td><td>{_cell(a.get('raised_at'))}</td>"
        f"<td>{'ack ' + _cell(a.get('acknowledged_at')) if a.get('acknowledged_at') else ''}</td>"
        "</tr>"
        for a in recent
    )
    head = f"<h2>Alarms: {_cell(alarms.get('active', 0))} open</h2>"
    if not rows:
        return f"<section>{head}<p class='muted'>No alarm episodes.</p></section>"
    return f"<section class='wide'>{head}<table>{rows}</table></section>"


def _annunciation(status: dict[str, Any] | None) -> str:
    if not status:
        return ""
    outputs = ", ".join(
        f"{escape(name)} {_cell(o.get('written'))}" for name, o in status["outputs"].items()
    )
    rows = [
        ("device", f"{_cell(status.get('device'))} "
                   f"{_badge(status.get('state', '?'), status.get('state') == 'ok')}"),
        ("outputs", outputs),
        ("last acknowledge", _cell(status.get("last_ack_at"))),
    ]  # fmt: skip
    if status.get("last_error"):
        rows.append(("error", _cell(status["last_error"])))
    return f"<section><h2>Horn / beacon</h2>{_kv(rows)}</section>"


def _values(values: dict[str, Any], panels: dict[str, Any]) -> str:
    if not values:
        return "<section><h2>Last values</h2><p class='muted'>No readings yet.</p></section>"
    head = "".join(f"<th>{escape(s.rsplit('_', 1)[0])}</th>" for s in SENSOR_FIELDS)
    rows = []
    for compressor, reading in values.items():
        cells = []
        for sensor in SENSOR_FIELDS:
            v = reading["values"].get(sensor) or {}
            value, quality = v.get("value"), v.get("quality")
            text = "-" if value is None else f"{value:.1f}"
            cells.append(
                f"<td>{escape(text)}</td>" if quality == "ok"
                else f"<td class='bad' title='{escape(str(quality))}'>{escape(text)} {escape(str(quality))}</td>"
            )  # fmt: skip
        panel = (panels.get(compressor) or {}).get("state", "")
        rows.append(
            f"<tr><td>{escape(compressor)} <span class='muted'>{escape(panel)}</span></td>"
            f"<td>{_cell(reading.get('state'))}</td>{''.join(cells)}</tr>"
        )
    return (
        "<section class='wide'><h2>Last values</h2><table><tr><th>compressor</th><th>state</th>"
        f"{head}</tr>{''.join(rows)}</table></section>"
    )
