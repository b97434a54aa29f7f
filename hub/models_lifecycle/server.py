"""Serve bundle archives from the artifact store over HTTP (read-only, bundles only).

`GET /<model_id>/<version>/bundle.tar` returns the archive; nothing else is served.
Stations verify what they download (signature and sha256), so the transport needs no
trust of its own; in production put it behind TLS (stations accept https:// only,
unless `model.allow_http` is set for development).
"""

from __future__ import annotations

import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hub.models_lifecycle.registry import BUNDLE_FILE
from shared.errors import InvalidIdentifier
from shared.ids import check_id

log = logging.getLogger(__name__)


def _handler(root: Path) -> type[BaseHTTPRequestHandler]:
    class BundleHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            parts = self.path.split("?", 1)[0].strip("/").split("/")
            try:
                if len(parts) != 3 or parts[2] != BUNDLE_FILE:
                    raise InvalidIdentifier("not a bundle path")
                model_id, version = check_id("model id", parts[0]), check_id("version", parts[1])
            except InvalidIdentifier:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            path = root / model_id / version / BUNDLE_FILE
            if not path.is_file():
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            data = path.read_bytes()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/x-tar")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("bundle server: " + format, *args)

    return BundleHandler


class BundleServer:
    """A threaded HTTP server over one organisation's artifact store."""

    def __init__(self, root: Path, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(root))
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> BundleServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
