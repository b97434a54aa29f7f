"""The hub's bundle-signing key: from a secret file or the environment, never from the repository.

Outside development mode a missing key, a placeholder value, the development key or a
key file other users can read is refused.
"""

from __future__ import annotations

import logging
import os
import stat
from typing import TYPE_CHECKING

from hub.models_lifecycle.settings import ModelLifecycleSettings
from shared.bundle import BundleError, generate_signing_key, load_private_key, private_key_pem
from shared.errors import ConfigError
from shared.settings import PLACEHOLDER_SECRETS

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

log = logging.getLogger(__name__)


def signing_key(settings: ModelLifecycleSettings, *, development: bool) -> Ed25519PrivateKey:
    """The key bundles are signed with (see the module docstring for what is refused)."""
    pem = settings.signing_key_pem.get_secret_value() if settings.signing_key_pem else None
    if pem is not None:
        if pem.strip().lower() in PLACEHOLDER_SECRETS and not development:
            raise ConfigError("models.signing_key_pem is a placeholder; set the real key")
        if pem.strip().lower() not in PLACEHOLDER_SECRETS:
            return _parse(pem.encode(), "models.signing_key_pem")
    path = settings.signing_key_file
    if path is not None:
        if not development and path.resolve() == settings.dev_signing_key_file.resolve():
            raise ConfigError(f"{path} is the development signing key; refused outside development")
        try:
            mode = path.stat().st_mode
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"models.signing_key_file {path}: {exc.strerror}") from None
        if not development and mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(f"{path} is readable by other users (chmod 600 it)")
        return _parse(data, str(path))
    if not development:
        raise ConfigError(
            "no model signing key: set models.signing_key_file or ALTAVIZ_HUB_MODELS__SIGNING_KEY_PEM"
        )
    return _development_key(settings)


def _parse(data: bytes, where: str) -> Ed25519PrivateKey:
    try:
        return load_private_key(data)
    except (BundleError, ValueError, TypeError) as exc:
        raise ConfigError(f"{where}: not an Ed25519 private key in PEM ({exc})") from None


def _development_key(settings: ModelLifecycleSettings) -> Ed25519PrivateKey:
    path = settings.dev_signing_key_file
    if path.exists():
        return _parse(path.read_bytes(), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_signing_key()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(private_key_pem(key))
    log.warning("development mode: generated a model signing key at %s", path)
    return key
