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
.muted{color:#666}.kv td:first-child{color:#555;width:45%}.list{padding-left:1rem;margin:0}
.list li{margin:.3rem 0}.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));
gap:.5rem}.card{border:1px solid #e3e5e8;border-radius:6px;padding:.4rem}
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
        f"<span class='muted'>as of {_short(doc.get('at'))}</span></p>",
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


def _short(iso: Any) -> str:
    """'2026-12-07T14:20:11+00:00' -> '12-07 14:20 UTC' (a phone's width)."""
    text = str(iso or "")
    return escape(f"{text[5:10]} {text[11:16]} UTC") if len(text) >= 16 else _cell(iso)


def _alarms(doc: dict[str, Any]) -> str:
    alarms = doc.get("alarms") or {}
    items = []
    for a in alarms.get("recent") or []:
        state = _badge("ACTIVE", False) if not a.get("cleared_at") else "cleared"
        ack = f" · ack {_short(a['acknowledged_at'])}" if a.get("acknowledged_at") else ""
        items.append(
            f"<li>{state} {_cell(a.get('severity'))} <b>{_cell(a.get('compressor_id'))}</b> "
            f"{_cell(a.get('condition'))}<br><span class='muted'>since {_short(a.get('raised_at'))}"
            f"{ack}</span></li>"
        )
    head = f"<h2>Alarms: {_cell(alarms.get('active', 0))} open</h2>"
    if not items:
        return f"<section>{head}<p class='muted'>No alarm episodes.</p></section>"
    return f"<section>{head}<ul class='list'>{''.join(items)}</ul></section>"


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
        ("last acknowledge", _short(status.get("last_ack_at"))),
    ]  # fmt: skip
    if status.get("last_error"):
        rows.append(("error", _cell(status["last_error"])))
    return f"<section><h2>Horn / beacon</h2>{_kv(rows)}</section>"


def _values(values: dict[str, Any], panels: dict[str, Any]) -> str:
    if not values:
        return "<section><h2>Last values</h2><p class='muted'>No readings yet.</p></section>"
    cards = []
    for compressor, reading in values.items():
        cells = []
        for sensor in SENSOR_FIELDS:
            v = reading["values"].get(sensor) or {}
            value, quality = v.get("value"), v.get("quality")
            text = "-" if value is None else f"{value:.1f}"
            shown = escape(text) if quality == "ok" else (
                f"<span class='bad'>{escape(text)} {escape(str(quality))}</span>"
            )  # fmt: skip
            cells.append(f"<tr><td>{escape(_LABELS[sensor])}</td><td>{shown}</td></tr>")
        panel = (panels.get(compressor) or {}).get("state", "")
        cards.append(
            f"<div class='card'><b>{escape(compressor)}</b> {_cell(reading.get('state'))}"
            f" <span class='muted'>{escape(panel)}</span>"
            f"<table class='kv'>{''.join(cells)}</table></div>"
        )
    return f"<section><h2>Last values</h2><div class='cards'>{''.join(cards)}</div></section>"


_LABELS = {
    "vibration_mms": "vibration mm/s",
    "discharge_temp_f": "discharge °F",
    "suction_pressure_psi": "suction psig",
    "discharge_pressure_psi": "discharge psig",
    "horsepower_consumption": "power bhp",
    "gas_flow_mcf": "flow Mcf/d",
}
