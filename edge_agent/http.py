"""Local HTTP on the gateway: / (the status page for a phone), /status, /health and /metrics."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from edge_agent.page import render_page
from edge_agent.status import render_metrics

log = logging.getLogger(__name__)

#: The loop is stuck if it has not published a snapshot for this long.
STALL_S = 30.0


class LocalHttp:
    def __init__(self, host: str, port: int, snapshot: Callable[[], dict[str, Any]]) -> None:
        self._snapshot = snapshot
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                outer._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                return

        self._server = ThreadingHTTPServer((host, port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="edge-http", daemon=True
        )

    @property
    def address(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _serve(self, request: BaseHTTPRequestHandler) -> None:
        doc = self._snapshot()
        if request.path == "/metrics":
            body = render_metrics(doc).encode()
            self._reply(request, 200, body, "text/plain; version=0.0.4; charset=utf-8")
        elif request.path == "/health":
            health = health_of(doc)
            code = 200 if health["status"] != "failing" else 503
            self._reply(request, code, json.dumps(health).encode(), "application/json")
        elif request.path == "/status":
            self._reply(request, 200, json.dumps(doc, default=str).encode(), "application/json")
        elif request.path in ("/", "/index.html"):
            body = render_page(doc, health_of(doc)).encode()
            self._reply(request, 200, body, "text/html; charset=utf-8")
        else:
            self._reply(request, 404, b"not found\n", "text/plain")

    @staticmethod
    def _reply(request: BaseHTTPRequestHandler, code: int, body: bytes, content_type: str) -> None:
        request.send_response(code)
        request.send_header("Content-Type", content_type)
        request.send_header("Content-Length", str(len(body)))
        request.end_headers()
        request.wfile.write(body)


def health_of(doc: dict[str, Any]) -> dict[str, Any]:
    """ok / degraded (working, but someone should look) / failing (the loop is stuck)."""
    problems: list[str] = []
    failing = time.time() - float(doc.get("loop_at_epoch", 0)) > STALL_S
    if failing:
        problems.append("agent loop has not run for over 30 s")
    if doc.get("link") != "up":
        problems.append("no link to the hub (buffering)")
    forced = doc.get("buffer", {}).get("forced_out_readings", 0)
    if forced:
        problems.append(f"disk cap forced out {forced} unacknowledged reading(s)")
    for name, panel in doc.get("panels", {}).items():
        if panel.get("state") not in ("ok", "unknown"):
            problems.append(f"panel {name}: {panel.get('state')}")
    annunciation = doc.get("annunciation") or {}
    if annunciation.get("state") not in (None, "ok", "unknown"):
        problems.append(f"horn/beacon device: {annunciation.get('state')}")
    storage = doc.get("storage") or {}
    if storage.get("state") not in (None, "ok"):
        problems.append(f"buffer storage {storage.get('state')}: {storage.get('error')}")
    if storage.get("lost_readings"):
        problems.append(f"a failing file system lost {storage['lost_readings']} reading(s)")
    clock = doc.get("clock") or {}
    if clock.get("skewed"):
        problems.append(f"clock skew: {clock.get('problem')}")
    config = doc.get("config") or {}
    last_config = config.get("last_report") or {}
    if last_config.get("outcome") in ("refused", "rolled_back"):
        problems.append(f"configuration {last_config.get('version')}: {last_config.get('outcome')}")
    update = doc.get("last_model_update") or {}
    if update.get("outcome") in ("rejected", "rolled_back", "failed"):
        problems.append(f"model update {update.get('version')}: {update.get('outcome')}")
    status = "failing" if failing else ("degraded" if problems else "ok")
    return {"status": status, "problems": problems, "station_id": doc.get("station_id")}
