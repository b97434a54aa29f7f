"""The registry's champion models, loaded for scoring; a missing or mismatched model is a status.

`ChampionLoader.current()` is cheap to call every micro-batch: it asks the registry which
versions are champions and re-opens a bundle only when that changed. A model whose input
schema does not match is refused with one log line (once per version) and a `refused`
state; no champion is a plain `not_registered` state. Neither stops the caller.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from hub.models_lifecycle.registry import ModelRegistry, RegisteredModel
from hub.scoring.bundles import (
    DRIFT_MODEL_ID,
    RUL_MODEL_ID,
    AnomalyModel,
    DriftForecaster,
    RulEstimator,
)
from hub.scoring.errors import ModelRefused
from models.bundles import ANOMALY_MODEL_ID
from shared.bundle import (
    MANIFEST_NAME,
    SIGNATURE_NAME,
    BundleError,
    open_bundle,
    parse_manifest,
    read_archive,
)

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

log = logging.getLogger(__name__)

NOT_REGISTERED = "no model registered"


@dataclass(frozen=True)
class ModelState:
    model_id: str
    kind: str
    #: active | not_registered | refused
    status: str
    version: str | None = None
    message: str = ""


@dataclass
class Champions:
    anomaly: AnomalyModel | None = None
    rul: RulEstimator | None = None
    drift: DriftForecaster | None = None
    states: list[ModelState] = field(default_factory=list)


#: kind -> (model id, loader from manifest and files)
_MODELS: dict[str, tuple[str, Callable[..., Any]]] = {
    "anomaly": (ANOMALY_MODEL_ID, AnomalyModel),
    "rul": (RUL_MODEL_ID, RulEstimator.from_bundle),
    "temp_forecast": (DRIFT_MODEL_ID, DriftForecaster.from_bundle),
}
_ATTRIBUTE = {"anomaly": "anomaly", "rul": "rul", "temp_forecast": "drift"}


def open_registered(
    registered: RegisteredModel, loader: Callable[..., Any], public_key: Ed25519PublicKey | None
) -> Any:
    """The model of a registered version; ModelRefused when it does not fit the hub's inputs."""
    label = f"{registered.model_id}@{registered.version}"
    try:
        archive = registered.bundle_path.read_bytes()
        if public_key is not None:
            bundle = open_bundle(archive, public_key)
            manifest, files = bundle.manifest, dict(bundle.files)
        else:
            members = read_archive(archive)
            manifest = parse_manifest(members.pop(MANIFEST_NAME))
            members.pop(SIGNATURE_NAME, None)
            files = members
    except (OSError, BundleError) as exc:
        raise ModelRefused(label, f"bundle unreadable: {exc}") from None
    return loader(manifest, files)


class ChampionLoader:
    """Champions of one org's registry, re-opened only when the champion version changes."""

    def __init__(
        self, registry: ModelRegistry, *, public_key: Ed25519PublicKey | None = None
    ) -> None:
        self.registry = registry
        self.public_key = public_key
        self._loaded: dict[str, tuple[str | None, Any, ModelState]] = {}

    def current(self) -> Champions:
        champions = Champions()
        for kind, (model_id, loader) in _MODELS.items():
            registered = self.registry.champion(model_id)
            version = registered.version if registered is not None else None
            cached = self._loaded.get(kind)
            if cached is None or cached[0] != version:
                cached = (version, *self._open(kind, model_id, registered, loader))
                self._loaded[kind] = cached
            _, model, state = cached
            setattr(champions, _ATTRIBUTE[kind], model)
            champions.states.append(state)
        return champions

    def _open(
        self,
        kind: str,
        model_id: str,
        registered: RegisteredModel | None,
        loader: Callable[..., Any],
    ) -> tuple[Any, ModelState]:
        if registered is None:
            return None, ModelState(model_id, kind, "not_registered", None, NOT_REGISTERED)
        try:
            model = open_registered(registered, loader, self.public_key)
        except ModelRefused as exc:
            log.warning("scoring: %s", exc)
            return None, ModelState(model_id, kind, "refused", registered.version, exc.reason)
        log.info("scoring with %s@%s", model_id, registered.version)
        return model, ModelState(model_id, kind, "active", registered.version, "")
