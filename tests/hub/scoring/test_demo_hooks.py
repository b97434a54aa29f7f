"""What the demo calls: the detector offered (retained) to every station; the stage's statuses."""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select

from hub.db.session import session_scope
from hub.models_lifecycle.registry import ModelRegistry
from hub.scoring.demo import DemoModels, publish_detector
from hub.scoring.models import ModelStatus
from hub.scoring.stage import ScoringStage
from models.bundles import ANOMALY_MODEL_ID
from shared.bundle import decode_signature, verify_manifest
from shared.messages import ModelOffer, decode_message
from tests.edge_agent.bundles import zscore_bundle
from tests.hub.scoring.support import ORG, serving_engine
from tests.support.services import Mosquitto
from tests.support.stack import hub_settings

KEY = Ed25519PrivateKey.generate()


@pytest.mark.mosquitto
def test_the_detector_is_offered_retained_to_each_station(
    mosquitto: Mosquitto, tmp_path: Path
) -> None:
    engine = serving_engine(tmp_path)
    settings = hub_settings(tmp_path, mosquitto.port)
    registry = ModelRegistry(engine, settings.models.artifact_dir, org_id=ORG)
    manifest, signature, archive = zscore_bundle(KEY, version="5", model_id=ANOMALY_MODEL_ID)
    registry.register(
        manifest=manifest, signature=signature, archive=archive, kind="anomaly", evaluation={}
    )
    registry.promote(ANOMALY_MODEL_ID, "5")
    models = DemoModels({"anomaly": registry.get(ANOMALY_MODEL_ID, "5")}, tmp_path / "key.pem")

    publish_detector(settings, engine, models, org_id=ORG, stations=["STATION-1"])

    offers: list[ModelOffer] = []
    got = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="late-station")

    def on_message(_c, _u, message) -> None:  # type: ignore[no-untyped-def]
        offers.append(decode_message(message.payload, ModelOffer))
        got.set()

    client.on_message = on_message
    client.connect("127.0.0.1", mosquitto.port)
    client.subscribe(f"altaviz/v1/{ORG}/STATION-1/model", qos=1)  # after it was published
    client.loop_start()
    try:
        assert got.wait(10), "no retained offer"
    finally:
        client.loop_stop()
        client.disconnect()
    (offer,) = offers
    assert offer.manifest.label == f"{ANOMALY_MODEL_ID}@5"
    assert offer.bundle_url.startswith("file://") and Path(offer.bundle_url[7:]).exists()
    verify_manifest(offer.manifest, decode_signature(offer.signature), KEY.public_key())
    deployment = registry.deployments(ANOMALY_MODEL_ID)["STATION-1"]
    assert (deployment["offered"], deployment["state"]) == ("5", "pending")


def test_a_stage_without_models_records_it_and_gives_no_frames(tmp_path: Path) -> None:
    engine = serving_engine(tmp_path)
    stage = ScoringStage(engine, tmp_path / "models", interval_s=60.0)
    champions = stage.champions(ORG)
    since = datetime(2026, 7, 6, tzinfo=UTC)
    assert stage.silver_start(champions, since) is None
    assert stage.partials(None, champions, since=since) is None  # type: ignore[arg-type]
    assert stage.minute_scores(None, champions, since=since) is None
    assert stage.model_hours(None, champions) is None
    assert stage.hour_scores(None, champions, since=since) is None  # type: ignore[arg-type]
    with session_scope(engine, org_id=ORG) as session:
        rows = session.scalars(select(ModelStatus.status)).all()
    assert rows == ["not_registered"] * 3
