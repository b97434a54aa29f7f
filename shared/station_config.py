"""Remote station configuration: a signed, versioned document the hub publishes to a station.

The hub publishes `SignedStationConfig` retained on `altaviz/v1/{org}/{station}/config`;
the station verifies the Ed25519 signature against its pinned hub key (the key model
bundles are signed with), refuses a lower version than it runs, validates every
section, applies it and answers with a `ConfigReport` on `.../config_status`.

Each section present replaces that part of the station's file configuration; an
absent section (null) leaves it as the file has it:

- `thresholds`: the content of config/thresholds.yaml (rules, comm loss, anomaly);
- `source_options`: the reading source's options (panels, endpoints, poll intervals);
- `register_maps`: register maps by name, as in config/register_maps/<name>.yaml;
- `uplink`: batch sizes and timings (keys of the agent's `uplink` settings);
- `annunciation`: the horn/beacon outputs and acknowledge input.

The edge validates sections against its own settings classes; this module checks the
document's shape and the register maps (both sides share those), so a hub refuses a
bad map before it signs anything.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.bundle import canonical_json, key_id
from shared.errors import ConfigError, ContractError
from shared.ids import OrgId, StationId
from shared.register_map import parse_register_map

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

CONFIG_FORMAT_VERSION = 1
#: Sections a document may carry (see the module docstring).
SECTIONS = ("thresholds", "source_options", "register_maps", "uplink", "annunciation")


class StationConfigError(ContractError):
    """A configuration document was refused; `reason` is a short machine-readable code."""

    reason = "invalid"


class ConfigSignatureError(StationConfigError):
    reason = "bad_signature"


class StationConfigDocument(BaseModel):
    """What the hub wants a station to run; the signed part."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    format_version: int = CONFIG_FORMAT_VERSION
    org_id: OrgId
    station_id: StationId
    #: Increases with every push to this station; a station never goes back to a lower one.
    version: int = Field(ge=1)
    issued_at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())
    issued_by: str = ""
    thresholds: dict[str, Any] | None = None
    source_options: dict[str, Any] | None = None
    register_maps: dict[str, dict[str, Any]] | None = None
    uplink: dict[str, Any] | None = None
    annunciation: dict[str, Any] | None = None
    #: sha256 of the raw public key that signed it.
    signing_key_id: str = ""

    @model_validator(mode="after")
    def _maps_valid(self) -> Self:
        for name, data in (self.register_maps or {}).items():
            try:
                parse_register_map(data, source=f"register_maps.{name}", name=name)
            except ConfigError as exc:
                raise ValueError(str(exc)) from None
        return self

    def sections(self) -> dict[str, Any]:
        """The sections this document sets (not null)."""
        return {k: getattr(self, k) for k in SECTIONS if getattr(self, k) is not None}


class SignedStationConfig(BaseModel):
    """Hub -> edge, retained on the config topic."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    document: StationConfigDocument
    #: base64 Ed25519 signature of the canonical document.
    signature: str = Field(min_length=1)


class ConfigOutcome(StrEnum):
    APPLIED = "applied"  # verified, validated, running
    REFUSED = "refused"  # not applied: unsigned, tampered, stale, invalid, for another station
    ROLLED_BACK = "rolled_back"  # applied, failed (a panel unreachable...), the previous runs again


class ConfigReport(BaseModel):
    """Edge -> hub on config_status (and in the station's status): the fate of a document."""

    model_config = ConfigDict(extra="allow")

    version: int | None
    outcome: ConfigOutcome
    reason: str | None = None
    #: The configuration version the station runs after this (0: its file configuration).
    running_version: int = 0
    at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())


def canonical_document_bytes(document: StationConfigDocument) -> bytes:
    return canonical_json(document.model_dump(mode="json"))


def sign_config(document: StationConfigDocument, key: Ed25519PrivateKey) -> SignedStationConfig:
    """Stamp the signing key's id into the document and sign it."""
    stamped = document.model_copy(update={"signing_key_id": key_id(key)})
    signature = key.sign(canonical_document_bytes(stamped))
    return SignedStationConfig(document=stamped, signature=base64.b64encode(signature).decode())


def verify_config(signed: SignedStationConfig, key: Ed25519PublicKey) -> None:
    """Raise ConfigSignatureError unless the pinned key signed exactly this document."""
    from cryptography.exceptions import InvalidSignature

    try:
        signature = base64.b64decode(signed.signature, validate=True)
    except ValueError:
        raise ConfigSignatureError("signature is not base64") from None
    try:
        key.verify(signature, canonical_document_bytes(signed.document))
    except InvalidSignature:
        raise ConfigSignatureError(
            f"signature of configuration version {signed.document.version} does not verify "
            f"against the pinned key {key_id(key)[:16]} (signed by another key, or altered)"
        ) from None
