"""/health (the process is alive), /ready (its dependencies answer) and /metrics over HTTP.

For the services without an HTTP server of their own (ingest, pipeline, workflows,
bundle server); the portal serves the same three paths from its own app (`views.py`).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from dataclasses import dataclass
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Check:
    """One dependency of a service: `probe` raises (or returns False) when it is not usable."""

    name: str
    probe: Callable[[], object]


def run_checks(checks: Sequence[Check], *, timeout_s: float) -> tuple[bool, dict[str, Any]]:
    """(ready, document): every check within `timeout_s`; the first failing one is named."""
    results: dict[str, str] = {}
    failing: str | None = None
    detail = ""
    with ThreadPoolExecutor(max_workers=max(len(checks), 1)) as pool:
        futures = [(check, pool.submit(check.probe)) for check in checks]
        for check, future in futures:
            try:
                ok = future.result(timeout=timeout_s) is not False
                problem = "" if ok else "not available"
            except FutureTimeout:
                problem = f"no answer within {timeout_s:g}s"
            except Exception as exc:
                problem = _one_line(exc)
            results[check.name] = "ok" if not problem else f"down: {problem}"
            if problem and failing is None:
                failing, detail = check.name, problem
        pool.shutdown(wait=False, cancel_futures=True)
    document: dict[str, Any] = {"status": "ready" if failing is None else "not ready"}
    if failing is not None:
        document["failing"] = failing
        document["detail"] = detail
    document["checks"] = results
    return failing is None, document


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else ''}".strip().rstrip(":")[:300]


class HealthServer:
    """A small threaded HTTP server: GET /health, /ready, /metrics."""

    def __init__(
        self,
        service: str,
        checks: Sequence[Check] = (),
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        ready_timeout_s: float = 2.0,
    ) -> None:
        self.service = service
        self.checks = list(checks)
        self.ready_timeout_s = ready_timeout_s
        self._server = ThreadingHTTPServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, name=f"{service}-health", daemon=True
        )

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        host = str(self._server.server_address[0])
        return f"http://{host}:{self.port}"

    def add_check(self, check: Check) -> None:
        self.checks.append(check)

    def start(self) -> HealthServer:
        self._thread.start()
        log.info("%s: /health, /ready and /metrics on %s", self.service, self.url)
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> HealthServer:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                path = self.path.split("?", 1)[0]
                if path == "/health":
                    self._json(HTTPStatus.OK, {"status": "ok", "service": owner.service})
                elif path == "/ready":
                    ready, document = run_checks(owner.checks, timeout_s=owner.ready_timeout_s)
                    document["service"] = owner.service
                    status = HTTPStatus.OK if ready else HTTPStatus.SERVICE_UNAVAILABLE
                    self._json(status, document)
                elif path == "/metrics":
                    self._send(HTTPStatus.OK, generate_latest(), CONTENT_TYPE_LATEST)
                else:
                    self._json(HTTPStatus.NOT_FOUND, {"error": "not found"})

            def _json(self, status: HTTPStatus, document: dict[str, Any]) -> None:
                self._send(status, json.dumps(document).encode(), "application/json")

            def _send(self, status: HTTPStatus, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: object) -> None:
                log.debug("health: " + format, *args)

        return Handler
