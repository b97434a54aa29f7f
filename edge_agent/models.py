"""Model updates: verify, keep on disk, promote, roll back.

Layout under `model.dir`::

    versions/<model_id>@<version>/   manifest.json, manifest.sig, model files (verified copy)
    state.json                      {"current": label, "previous": label, "last_update": {...}}

An offer arrives on the retained model topic. Its manifest signature is checked
against the pinned key at once; the bundle archive is then fetched (https://, or
file:// for an update carried to site) on a worker thread, verified completely
(signature, every file's size and sha256), loaded into ONNX Runtime and scored on
the station's recent readings. Only then does it enter a live shadow period, and
only after that is it promoted; the previous version stays on disk, and a model
that fails later is rolled back without anyone's help.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import threading
import urllib.request
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from edge_agent.errors import ModelError, ModelFetchError
from edge_agent.model_runtime import FeatureRows, OnnxModel
from shared.bundle import (
    MAX_BUNDLE_BYTES,
    BundleError,
    decode_signature,
    load_public_key,
    open_bundle,
    open_bundle_dir,
    verify_manifest,
)
from shared.messages import ModelOffer, ModelUpdateReport, UpdateOutcome

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    from edge_agent.settings import ModelSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Candidate:
    """A verified, loaded model that passed the check on recent readings."""

    offer: ModelOffer
    model: OnnxModel


class ModelStore:
    def __init__(self, root: Path, public_key: Ed25519PublicKey) -> None:
        self.root = root
        self.public_key = public_key
        (root / "versions").mkdir(parents=True, exist_ok=True)
        self._state_path = root / "state.json"
        self.state: dict[str, object] = (
            json.loads(self._state_path.read_text()) if self._state_path.exists() else {}
        )

    @property
    def current(self) -> str | None:
        value = self.state.get("current")
        return str(value) if value else None

    @property
    def previous(self) -> str | None:
        value = self.state.get("previous")
        return str(value) if value else None

    @property
    def last_update(self) -> ModelUpdateReport | None:
        raw = self.state.get("last_update")
        return ModelUpdateReport.model_validate(raw) if isinstance(raw, dict) else None

    def directory(self, label: str) -> Path:
        return self.root / "versions" / label

    def load(self, label: str) -> OnnxModel:
        """Verify the kept copy again (disks rot, people edit) and load it."""
        try:
            bundle = open_bundle_dir(self.directory(label), self.public_key)
        except BundleError as exc:
            raise ModelError(f"{label}: kept copy fails verification: {exc}") from None
        return OnnxModel(bundle)

    def keep(self, archive: bytes) -> OnnxModel:
        """Verify an archive, keep its files under versions/, and load it."""
        bundle = open_bundle(archive, self.public_key)
        target = self.directory(bundle.manifest.label)
        staging = target.with_name(f".{target.name}.staging")
        shutil.rmtree(staging, ignore_errors=True)
        bundle.write_to(staging)
        shutil.rmtree(target, ignore_errors=True)
        os.replace(staging, target)
        return OnnxModel(bundle)

    def promote(self, label: str) -> None:
        current = self.current
        self._save(current=label, previous=current if current != label else self.previous)
        self._prune()

    def roll_back(self) -> str | None:
        """Make the previous version current again; return it (None if there was none)."""
        previous = self.previous
        self._save(current=previous, previous=None)
        return previous

    def report(
        self, offer_label: tuple[str, str], outcome: UpdateOutcome, reason: str | None
    ) -> ModelUpdateReport:
        model_id, version = offer_label
        report = ModelUpdateReport(
            model_id=model_id, version=version, outcome=outcome, reason=reason
        )
        self._save(last_update=report.model_dump(mode="json"))
        return report

    def _save(self, **changes: object) -> None:
        self.state = {**self.state, **changes}
        tmp = self._state_path.with_suffix(".tmp")
        with open(tmp, "w") as handle:
            json.dump(self.state, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self._state_path)

    def _prune(self) -> None:
        keep = {self.current, self.previous}
        for path in (self.root / "versions").iterdir():
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)


def shown(url: str) -> str:
    """A bundle URL for logs and reports: without its query (the hub's per-station signature)."""
    return url.split("?", 1)[0]


def fetch(url: str, *, allow_http: bool, ca_file: Path | None, timeout_s: float) -> bytes:
    """Download a bundle archive; only https:// (and file://, http:// when allowed).

    The hub's bundle URLs are signed for this station (a query string); the bundle
    server refuses an unsigned, altered or expired one with 401/403 and says why.
    """
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("https", "file") and not (scheme == "http" and allow_http):
        raise ModelFetchError(f"bundle URL scheme {scheme!r} is not allowed ({shown(url)})")
    context = None
    if scheme == "https":
        import ssl

        context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
    try:
        with urllib.request.urlopen(url, timeout=timeout_s, context=context) as response:
            data: bytes = response.read(MAX_BUNDLE_BYTES + 1)
    except (OSError, ValueError) as exc:
        raise ModelFetchError(f"cannot fetch {shown(url)}: {exc}") from None
    if len(data) > MAX_BUNDLE_BYTES:
        raise ModelFetchError(f"bundle at {shown(url)} is larger than {MAX_BUNDLE_BYTES} bytes")
    return data


class ModelUpdater:
    """Checks offers and prepares candidates off the agent thread; the agent promotes."""

    def __init__(self, settings: ModelSettings) -> None:
        if settings.public_key_file is None:
            raise ModelError("model.public_key_file is not set: no key to verify bundles with")
        self.settings = settings
        self.store = ModelStore(settings.dir, load_public_key(settings.public_key_file))
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="model-update")
        self._pending: Future[Candidate] | None = None
        self._pending_offer: ModelOffer | None = None
        self._lock = threading.Lock()

    def close(self) -> None:
        self._pool.shutdown(wait=False, cancel_futures=True)

    def should_consider(
        self, offer: ModelOffer, *, running: str | None, shadow: str | None
    ) -> bool:
        label = offer.manifest.label
        if label in (running, shadow):
            return False
        if self._pending_offer is not None and self._pending_offer.manifest.label == label:
            return False
        last = self.store.last_update
        # A retained offer comes back on every reconnect: do not retry one already refused.
        return not (
            last is not None
            and (last.model_id, last.version) == (offer.manifest.model_id, offer.manifest.version)
            and last.outcome in (UpdateOutcome.REJECTED, UpdateOutcome.ROLLED_BACK)
        )

    def check_signature(self, offer: ModelOffer) -> None:
        verify_manifest(offer.manifest, decode_signature(offer.signature), self.store.public_key)

    def prepare(self, offer: ModelOffer, recent_features: FeatureRows) -> None:
        """Fetch, verify, load and sanity-check `offer` on the worker thread."""
        self._pending_offer = offer
        self._pending = self._pool.submit(self._prepare, offer, recent_features)

    def poll(self) -> tuple[ModelOffer, Candidate | BaseException] | None:
        """The finished preparation, if any: a candidate or the error that stopped it."""
        if self._pending is None or not self._pending.done():
            return None
        future, offer = self._pending, self._pending_offer
        self._pending, self._pending_offer = None, None
        assert offer is not None
        error = future.exception()
        return offer, (error if error is not None else future.result())

    def _prepare(self, offer: ModelOffer, recent_features: FeatureRows) -> Candidate:
        s = self.settings
        archive = fetch(
            offer.bundle_url,
            allow_http=s.allow_http,
            ca_file=s.ca_file,
            timeout_s=s.fetch_timeout_s,
        )
        bundle_label = offer.manifest.label
        model = self.store.keep(archive)
        if model.manifest != offer.manifest:
            raise BundleError(
                f"bundle at {shown(offer.bundle_url)} is not the offered {bundle_label}"
            )
        problem = model.sanity_check(
            recent_features, max_anomalous_fraction=s.max_anomalous_fraction
        )
        if problem is not None:
            raise ModelError(f"sanity check on recent readings: {problem}")
        return Candidate(offer=offer, model=model)
