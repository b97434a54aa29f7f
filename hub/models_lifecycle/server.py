"""Serve bundle archives from the artifact store over HTTP (read-only, bundles only).

`GET /<org>/<model_id>/<version>/bundle.tar?station=&expires=&sig=` returns the archive
when the URL is signed for that station (hub.models_lifecycle.bundle_urls): a station
gets only the bundles offered to it, of its own org; anything else is refused (401 with
no signature, 403 with a wrong or expired one) and logged. Stations still verify what
they download (signature and sha256); in production put the server behind TLS
(stations accept https:// only, unless `model.allow_http` is set for development).
"""

from __future__ import annotations

import logging
import threading
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from hub.models_lifecycle.bundle_urls import BundleUrlRefused, BundleUrls
from hub.models_lifecycle.registry import BUNDLE_FILE
from shared.errors import InvalidIdentifier
from shared.ids import check_id

log = logging.getLogger(__name__)


def _handler(root: Path, urls: BundleUrls) -> type[BaseHTTPRequestHandler]:
    class BundleHandler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            path, _, query = self.path.partition("?")
            parts = path.strip("/").split("/")
            try:
                if len(parts) != 4 or parts[3] != BUNDLE_FILE:
                    raise InvalidIdentifier("not a bundle path")
                for what, part in zip(("org id", "model id", "version"), parts, strict=False):
                    check_id(what, part)
            except InvalidIdentifier:
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            params = {key: values[0] for key, values in parse_qs(query).items()}
            try:
                urls.verify(
                    path="/" + "/".join(parts), station_id=params.get("station", ""),
                    expires=params.get("expires", ""), sig=params.get("sig", ""),
                )  # fmt: skip
            except BundleUrlRefused as exc:
                signed = "sig" in params
                log.warning(
                    "bundle server refused %s for station %r from %s: %s", path,
                    params.get("station"), self.client_address[0], exc,
                )  # fmt: skip
                status = HTTPStatus.FORBIDDEN if signed else HTTPStatus.UNAUTHORIZED
                self.send_error(status, str(exc))
                return
            bundle = root.joinpath(*parts[:3], BUNDLE_FILE)
            if not bundle.is_file():
                self.send_error(HTTPStatus.NOT_FOUND)
                return
            data = bundle.read_bytes()
            self.send_response(HTTPStatus.OK)
            self.send_header("Content-Type", "application/x-tar")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: object) -> None:
            log.debug("bundle server: " + format, *args)

    return BundleHandler


class BundleServer:
    """A threaded HTTP server over the artifact store (`<artifact_dir>/<org>/...`)."""

    def __init__(
        self, artifact_dir: Path, *, urls: BundleUrls, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        self._server = ThreadingHTTPServer((host, port), _handler(artifact_dir, urls))
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
