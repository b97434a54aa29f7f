"""Signed bundle URLs: a station can fetch only the bundles offered to it, of its own org.

An offer published to one station carries a URL for that station:
`<base>/<org>/<model_id>/<version>/bundle.tar?station=<id>&expires=<epoch s>&sig=<hmac>`.
The HMAC (SHA-256) covers the org, model, version, station and expiry, so a station
cannot change any of them (another org's bundle, another version) without the key.
The key is derived from the hub's model-signing key: every hub process that publishes
or serves bundles has it, and nothing else has to be shared.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlencode

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from hub.errors import HubError
from shared.errors import InvalidIdentifier
from shared.ids import check_id

#: A retained offer is fetched when a station (re)connects: weeks, not minutes.
DEFAULT_TTL_S = 30 * 24 * 3600.0


class BundleUrlRefused(HubError):
    """A bundle URL without a valid signature for this org, version and station."""


@dataclass(frozen=True)
class BundleUrls:
    key: bytes
    ttl_s: float = DEFAULT_TTL_S

    @classmethod
    def from_signing_key(
        cls, key: Ed25519PrivateKey, *, ttl_s: float = DEFAULT_TTL_S
    ) -> BundleUrls:
        raw = key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
        return cls(hashlib.sha256(b"altaviz bundle urls\0" + raw).digest(), ttl_s)

    def _mac(self, path: str, station_id: str, expires: int) -> str:
        message = f"{path}|{station_id}|{expires}".encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def sign(self, url: str, *, path: str, station_id: str, now: float | None = None) -> str:
        """`url` (which ends with `path`, e.g. `/org/model/version/bundle.tar`) for one station."""
        check_id("station id", station_id)
        expires = int((time.time() if now is None else now) + self.ttl_s)
        query = {"station": station_id, "expires": expires,
                 "sig": self._mac(path, station_id, expires)}  # fmt: skip
        return f"{url}?{urlencode(query)}"

    def verify(
        self, *, path: str, station_id: str, expires: str, sig: str, now: float | None = None
    ) -> None:
        """BundleUrlRefused unless the signature is ours and has not expired."""
        if not (station_id and expires and sig):
            raise BundleUrlRefused("the bundle URL is not signed (station, expires, sig)")
        try:
            check_id("station id", station_id)
            expires_at = int(expires)
        except (ValueError, InvalidIdentifier) as exc:
            raise BundleUrlRefused("the bundle URL is malformed") from exc
        if not hmac.compare_digest(self._mac(path, station_id, expires_at), sig):
            raise BundleUrlRefused("the bundle URL's signature does not match")
        if expires_at < (time.time() if now is None else now):
            raise BundleUrlRefused("the bundle URL has expired; the hub offers a fresh one")
