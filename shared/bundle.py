"""Model bundles: ONNX file(s) + a manifest, signed with Ed25519 by the hub.

A bundle travels as one uncompressed tar archive::

    manifest.json       canonical JSON of `BundleManifest` (what is signed)
    manifest.sig        64-byte Ed25519 signature of manifest.json's bytes
    <files...>          every file the manifest lists, with its sha256 and size

The hub builds and signs (`build_bundle`); a station verifies against its pinned
public key (`open_bundle`): the signature first, then every file's size and
sha256, and refuses anything the manifest does not list. The same manifest and
signature travel on the retained model topic (`shared.messages.ModelOffer`), so a
station can refuse an unsigned offer before it downloads anything.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.errors import ContractError
from shared.features import FEATURE_SET_VERSION
from shared.ids import ID_PATTERN

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

# `cryptography` is imported where keys are used, so importing the manifest types
# (messages, the portal) does not need it; the edge and hub extras both ship it.

BUNDLE_FORMAT_VERSION = 1
MANIFEST_NAME = "manifest.json"
SIGNATURE_NAME = "manifest.sig"
MAX_BUNDLE_BYTES = 256 * 1024 * 1024
_SHA256_PATTERN = r"^[0-9a-f]{64}$"
_FILE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$"


class BundleError(ContractError):
    """A model bundle or offer was refused; `reason` is a short machine-readable code."""

    reason = "invalid_bundle"


class BundleFormatError(BundleError):
    """Not a readable bundle: bad archive, missing or unexpected member, bad manifest."""

    reason = "bad_format"


class BundleSignatureError(BundleError):
    """The manifest's signature does not verify against the pinned public key."""

    reason = "bad_signature"


class BundleIntegrityError(BundleError):
    """A file's size or sha256 differs from the manifest (tampered or truncated)."""

    reason = "bad_file"


class BundleFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str = Field(pattern=_FILE_PATTERN)
    sha256: str = Field(pattern=_SHA256_PATTERN)
    size_bytes: int = Field(ge=0)


class ScoreThresholds(BaseModel):
    """How to turn the model's score into an alarm episode (with hysteresis)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: "above": higher scores are more anomalous; "below": lower are (IsolationForest).
    anomalous_when: str = Field("below", pattern=r"^(above|below)$")
    raise_at: float
    clear_at: float
    #: Consecutive anomalous readings before an episode opens / normal ones before it closes.
    raise_after: int = Field(3, ge=1)
    clear_after: int = Field(10, ge=1)


class TrainingInfo(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)

    data_from: str
    data_to: str
    rows: int = Field(ge=0)
    stations: list[str] = Field(default_factory=list)


class BundleManifest(BaseModel):
    """What a bundle is; the signed document."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: int = BUNDLE_FORMAT_VERSION
    model_id: str = Field(pattern=ID_PATTERN)
    version: str = Field(pattern=ID_PATTERN)
    kind: str = "anomaly_detector"
    created_at: str
    #: The ONNX file to run, and its input / score output names.
    entrypoint: str = Field(pattern=_FILE_PATTERN)
    input_name: str = "features"
    score_output: str = "scores"
    feature_set_version: int = FEATURE_SET_VERSION
    features: list[str] = Field(min_length=1)
    window_s: float = Field(60.0, gt=0)
    min_samples: int = Field(5, ge=1)
    thresholds: ScoreThresholds
    training: TrainingInfo
    metrics: dict[str, float] = Field(default_factory=dict)
    files: list[BundleFile] = Field(min_length=1)
    #: sha256 of the raw public key that signed it (which key, for rotation and logs).
    signing_key_id: str = ""

    @field_validator("files")
    @classmethod
    def _unique_paths(cls, files: list[BundleFile]) -> list[BundleFile]:
        paths = [f.path for f in files]
        if len(set(paths)) != len(paths):
            raise ValueError("a file is listed twice")
        if {MANIFEST_NAME, SIGNATURE_NAME} & set(paths):
            raise ValueError(f"{MANIFEST_NAME} and {SIGNATURE_NAME} are not bundle files")
        return files

    @property
    def label(self) -> str:
        return f"{self.model_id}@{self.version}"

    def file(self, path: str) -> BundleFile:
        for entry in self.files:
            if entry.path == path:
                return entry
        raise BundleFormatError(f"manifest lists no file {path!r}")


@dataclass(frozen=True)
class VerifiedBundle:
    """A bundle whose signature and every file checked out."""

    manifest: BundleManifest
    signature: bytes
    files: Mapping[str, bytes]

    def write_to(self, directory: Path) -> None:
        """Write manifest, signature and files into `directory` (created)."""
        directory.mkdir(parents=True, exist_ok=True)
        (directory / MANIFEST_NAME).write_bytes(canonical_manifest_bytes(self.manifest))
        (directory / SIGNATURE_NAME).write_bytes(self.signature)
        for name, data in self.files.items():
            (directory / name).write_bytes(data)


# -- keys ----------------------------------------------------------------------


def generate_signing_key() -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return Ed25519PrivateKey.generate()


def private_key_pem(key: Ed25519PrivateKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def public_key_pem(key: Ed25519PrivateKey | Ed25519PublicKey) -> bytes:
    from cryptography.hazmat.primitives import serialization

    public = _public(key)
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def load_private_key(pem: bytes | Path) -> Ed25519PrivateKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    data = pem.read_bytes() if isinstance(pem, Path) else pem
    key = serialization.load_pem_private_key(data, password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise BundleError("signing key is not an Ed25519 private key")
    return key


def load_public_key(pem: bytes | Path) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

    try:
        data = pem.read_bytes() if isinstance(pem, Path) else pem
        key = serialization.load_pem_public_key(data)
    except (OSError, ValueError) as exc:
        raise BundleError(f"cannot load the public key: {exc}") from None
    if not isinstance(key, Ed25519PublicKey):
        raise BundleError("the pinned key is not an Ed25519 public key")
    return key


def key_id(key: Ed25519PrivateKey | Ed25519PublicKey) -> str:
    """sha256 (hex) of the raw 32-byte public key."""
    from cryptography.hazmat.primitives import serialization

    raw = _public(key).public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def _public(key: Ed25519PrivateKey | Ed25519PublicKey) -> Ed25519PublicKey:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    return key.public_key() if isinstance(key, Ed25519PrivateKey) else key


# -- manifests and signatures --------------------------------------------------


def canonical_json(document: Any) -> bytes:
    """The exact bytes that are signed: sorted keys, no spaces, ASCII."""
    return json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def canonical_manifest_bytes(manifest: BundleManifest) -> bytes:
    return canonical_json(manifest.model_dump(mode="json"))


def file_entry(path: str, data: bytes) -> BundleFile:
    return BundleFile(path=path, sha256=hashlib.sha256(data).hexdigest(), size_bytes=len(data))


def build_manifest(
    *,
    model_id: str,
    version: str,
    files: Mapping[str, bytes],
    entrypoint: str,
    features: list[str] | tuple[str, ...],
    thresholds: ScoreThresholds,
    training: TrainingInfo,
    metrics: Mapping[str, float] | None = None,
    signing_key: Ed25519PrivateKey | None = None,
    **fields: Any,
) -> BundleManifest:
    """A manifest listing `files` with their sha256 and size (nothing is signed yet)."""
    if entrypoint not in files:
        raise BundleFormatError(f"entrypoint {entrypoint!r} is not among the bundle's files")
    try:
        return BundleManifest(
            model_id=model_id,
            version=version,
            created_at=fields.pop("created_at", datetime.now(UTC).isoformat()),
            entrypoint=entrypoint,
            features=list(features),
            thresholds=thresholds,
            training=training,
            metrics=dict(metrics or {}),
            files=[file_entry(name, data) for name, data in sorted(files.items())],
            signing_key_id=key_id(signing_key) if signing_key is not None else "",
            **fields,
        )
    except ValidationError as exc:
        raise BundleFormatError(f"manifest: {_first_error(exc)}") from None


def sign_manifest(manifest: BundleManifest, key: Ed25519PrivateKey) -> bytes:
    return key.sign(canonical_manifest_bytes(manifest))


def verify_manifest(manifest: BundleManifest, signature: bytes, key: Ed25519PublicKey) -> None:
    """Raise BundleSignatureError unless `signature` is the pinned key's, over this manifest."""
    from cryptography.exceptions import InvalidSignature

    try:
        key.verify(signature, canonical_manifest_bytes(manifest))
    except InvalidSignature:
        raise BundleSignatureError(
            f"manifest signature of {manifest.label} does not verify against the pinned key "
            f"{key_id(key)[:16]} (signed by another key, or altered)"
        ) from None


def parse_manifest(data: bytes | Mapping[str, Any]) -> BundleManifest:
    try:
        document = json.loads(data) if isinstance(data, bytes) else data
        return BundleManifest.model_validate(document)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise BundleFormatError(f"manifest is not JSON: {exc}") from None
    except ValidationError as exc:
        raise BundleFormatError(f"manifest: {_first_error(exc)}") from None


def encode_signature(signature: bytes) -> str:
    return base64.b64encode(signature).decode()


def decode_signature(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except ValueError:
        raise BundleSignatureError("signature is not base64") from None


# -- archives ------------------------------------------------------------------


def build_bundle(
    files: Mapping[str, bytes], *, signing_key: Ed25519PrivateKey, **manifest_fields: Any
) -> tuple[BundleManifest, bytes, bytes]:
    """Build, sign and pack a bundle; return (manifest, signature, archive bytes)."""
    manifest = build_manifest(files=files, signing_key=signing_key, **manifest_fields)
    signature = sign_manifest(manifest, signing_key)
    return manifest, signature, pack_bundle(manifest, signature, files)


def pack_bundle(manifest: BundleManifest, signature: bytes, files: Mapping[str, bytes]) -> bytes:
    """The archive: manifest, signature, then the files in manifest order."""
    sink = io.BytesIO()
    members = [
        (MANIFEST_NAME, canonical_manifest_bytes(manifest)),
        (SIGNATURE_NAME, signature),
        *((entry.path, files[entry.path]) for entry in manifest.files),
    ]
    with tarfile.open(fileobj=sink, mode="w", format=tarfile.PAX_FORMAT) as archive:
        for name, data in members:
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 0
            info.mode = 0o644
            archive.addfile(info, io.BytesIO(data))
    return sink.getvalue()


def read_archive(archive: bytes) -> dict[str, bytes]:
    """Regular members of a bundle archive by name; anything else is refused."""
    if len(archive) > MAX_BUNDLE_BYTES:
        raise BundleFormatError(f"bundle is {len(archive)} bytes, above {MAX_BUNDLE_BYTES}")
    members: dict[str, bytes] = {}
    try:
        with tarfile.open(fileobj=io.BytesIO(archive), mode="r:") as tar:
            for info in tar:
                if not info.isreg() or "/" in info.name or info.name.startswith("."):
                    raise BundleFormatError(f"bundle member {info.name!r} is not a plain file")
                if info.name in members:
                    raise BundleFormatError(f"bundle member {info.name!r} appears twice")
                handle = tar.extractfile(info)
                data = handle.read() if handle is not None else b""
                if len(data) != info.size:
                    raise BundleIntegrityError(
                        f"bundle member {info.name!r} is truncated "
                        f"({len(data)} of {info.size} bytes)"
                    )
                members[info.name] = data
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise BundleFormatError(f"bundle is not a readable archive (truncated?): {exc}") from None
    return members


def verify_files(manifest: BundleManifest, files: Mapping[str, bytes]) -> None:
    """Every listed file present with its size and sha256; nothing unlisted."""
    listed = {entry.path for entry in manifest.files}
    extra = sorted(set(files) - listed)
    if extra:
        raise BundleFormatError(f"bundle carries file(s) the manifest does not list: {extra}")
    for entry in manifest.files:
        data = files.get(entry.path)
        if data is None:
            raise BundleFormatError(f"bundle lacks {entry.path!r}, which the manifest lists")
        if len(data) != entry.size_bytes:
            raise BundleIntegrityError(
                f"file {entry.path} is {len(data)} bytes, the manifest says "
                f"{entry.size_bytes} (truncated or altered)"
            )
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise BundleIntegrityError(
                f"file {entry.path} sha256 does not match the manifest (tampered)"
            )


def open_bundle(archive: bytes, public_key: Ed25519PublicKey) -> VerifiedBundle:
    """Verify a bundle archive completely; raise a BundleError saying what is wrong."""
    members = read_archive(archive)
    for needed in (MANIFEST_NAME, SIGNATURE_NAME):
        if needed not in members:
            raise BundleFormatError(f"bundle has no {needed}")
    manifest = parse_manifest(members.pop(MANIFEST_NAME))
    signature = members.pop(SIGNATURE_NAME)
    verify_manifest(manifest, signature, public_key)
    verify_files(manifest, members)
    return VerifiedBundle(manifest=manifest, signature=signature, files=members)


def open_bundle_dir(directory: Path, public_key: Ed25519PublicKey) -> VerifiedBundle:
    """Verify an unpacked bundle (as a station keeps it on disk) the same way."""
    try:
        manifest = parse_manifest((directory / MANIFEST_NAME).read_bytes())
        signature = (directory / SIGNATURE_NAME).read_bytes()
        verify_manifest(manifest, signature, public_key)
        files = {e.path: (directory / e.path).read_bytes() for e in manifest.files}
    except FileNotFoundError as exc:
        raise BundleFormatError(
            f"bundle directory {directory} lacks {Path(exc.filename).name}"
        ) from None
    verify_files(manifest, files)
    return VerifiedBundle(manifest=manifest, signature=signature, files=files)


def _first_error(exc: ValidationError) -> str:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "(manifest)"
    return f"{where}: {first['msg']}"
