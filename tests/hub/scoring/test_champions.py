"""Champions from the registry: none -> a plain status; a mismatched model -> refused, logged once."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from hub.db.session import session_scope
from hub.models_lifecycle.registry import ModelRegistry
from hub.scoring.champions import ChampionLoader
from hub.scoring.models import ModelStatus
from hub.scoring.service import record_states
from models.bundles import ANOMALY_MODEL_ID
from tests.edge_agent.bundles import zscore_bundle
from tests.hub.scoring.support import ORG, serving_engine

KEY = Ed25519PrivateKey.generate()


def _register(registry: ModelRegistry, version: str, **manifest: object) -> None:
    bundle, signature, archive = zscore_bundle(
        KEY, version=version, model_id=ANOMALY_MODEL_ID, **manifest
    )
    registry.register(
        manifest=bundle, signature=signature, archive=archive, kind="anomaly", evaluation={}
    )
    registry.promote(ANOMALY_MODEL_ID, version)


def _statuses(engine) -> dict[str, tuple[str, str | None, str]]:  # type: ignore[no-untyped-def]
    with session_scope(engine, org_id=ORG) as session:
        rows = session.scalars(select(ModelStatus)).all()
        return {r.kind: (r.status, r.model_version, r.message) for r in rows}


def test_states_go_from_not_registered_to_refused_to_active(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    engine = serving_engine(tmp_path)
    registry = ModelRegistry(engine, tmp_path / "models", org_id=ORG)
    loader = ChampionLoader(registry, public_key=KEY.public_key())

    champions = loader.current()
    assert champions.anomaly is None and champions.rul is None and champions.drift is None
    with session_scope(engine, org_id=ORG) as session:
        record_states(session=session, org_id=ORG, states=champions.states)
    assert _statuses(engine) == {
        "anomaly": ("not_registered", None, "no model registered"),
        "rul": ("not_registered", None, "no model registered"),
        "temp_forecast": ("not_registered", None, "no model registered"),
    }

    _register(registry, "2", feature_set_version=2)
    with caplog.at_level(logging.WARNING, logger="hub.scoring"):
        for _ in range(3):  # every micro-batch asks; the refusal is logged once
            champions = loader.current()
    # Only the scoring package's records (another test may have left the root at INFO).
    refusals = [r.getMessage() for r in caplog.records if r.name.startswith("hub.scoring")]
    assert refusals == [
        "scoring: compressor-anomaly@2 refused: feature set version 2, "
        "the features computed here are version 1"
    ]
    assert champions.anomaly is None
    with session_scope(engine, org_id=ORG) as session:
        record_states(session=session, org_id=ORG, states=champions.states)
    assert _statuses(engine)["anomaly"][:2] == ("refused", "2")

    _register(registry, "3")
    champions = loader.current()
    assert champions.anomaly is not None and champions.anomaly.version == "3"
    with session_scope(engine, org_id=ORG) as session:
        record_states(session=session, org_id=ORG, states=champions.states)
    assert _statuses(engine)["anomaly"] == ("active", "3", "")


def test_a_bundle_signed_by_another_key_is_refused(tmp_path: Path) -> None:
    engine = serving_engine(tmp_path)
    registry = ModelRegistry(engine, tmp_path / "models", org_id=ORG)
    _register(registry, "1")
    other = Ed25519PrivateKey.generate().public_key()
    state = ChampionLoader(registry, public_key=other).current().states[0]
    assert (state.status, state.version) == ("refused", "1")
    assert "signature" in state.message
