"""Helpers for the operations tests: HTTP probes, Prometheus samples, an OTLP receiver."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families


def get(url: str, timeout: float = 5.0) -> httpx.Response:
    return httpx.get(url, timeout=timeout)


def wait_for_status(url: str, status: int, *, timeout: float = 30.0) -> dict[str, Any]:
    """Poll `url` until it answers `status`; its JSON body."""
    deadline = time.monotonic() + timeout
    last: object = None
    while time.monotonic() < deadline:
        try:
            response = get(url)
            last = (response.status_code, response.text)
            if response.status_code == status:
                return dict(json.loads(response.text))
        except httpx.HTTPError as exc:
            last = exc
        time.sleep(0.2)
    raise AssertionError(f"{url} did not answer {status} within {timeout}s (last: {last})")


def sample(metrics_text: str, name: str, **labels: str) -> float:
    """The value of one sample in a Prometheus exposition (0.0 when absent)."""
    for family in text_string_to_metric_families(metrics_text):
        for s in family.samples:
            if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
                return float(s.value)
    return 0.0


class OtlpReceiver:
    """A minimal OTLP/HTTP traces endpoint on loopback: keeps every request body it gets."""

    def __init__(self) -> None:
        bodies: list[bytes] = []
        self.bodies = bodies
        self.received = threading.Event()

        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                bodies.append(self.rfile.read(length))
                received.set()
                self.send_response(200)
                self.send_header("Content-Type", "application/x-protobuf")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"

    def __enter__(self) -> OtlpReceiver:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()
