"""The pipeline scores with the registry's champions: gold model_scores rows carry their model.

No champion registered: the lake runs, writes only the physics health score, and the
serving database says "not registered". With one: every anomaly minute and every hour the
batch touched is scored, each row naming the model id and version.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pyspark.sql import functions as F
from sqlalchemy import select

from hub.db.session import session_scope
from hub.lakehouse.io import Lake
from hub.lakehouse.pipeline import run_once
from hub.lakehouse.status import PHYSICS_MODEL_ID
from hub.lakehouse.tables import MODEL_HOURS, MODEL_SCORES
from hub.models_lifecycle.registry import ModelRegistry
from hub.scoring.models import ModelStatus
from hub.scoring.stage import ScoringStage
from models.bundles import ANOMALY_MODEL_ID
from tests.edge_agent.bundles import zscore_bundle
from tests.hub.lakehouse.support import lake_settings, land
from tests.hub.scoring.support import ORG, serving_engine
from tests.support.factories import readings

pytestmark = [pytest.mark.spark, pytest.mark.slow]

START = (datetime.now(UTC) - timedelta(hours=4)).replace(minute=0, second=0, microsecond=0)
KEY = Ed25519PrivateKey.generate()


def _statuses(engine) -> dict[str, str]:  # type: ignore[no-untyped-def]
    with session_scope(engine, org_id=ORG) as session:
        return {r.kind: r.status for r in session.scalars(select(ModelStatus)).all()}


def test_scores_name_their_model_and_no_model_is_said_plainly(spark, tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = lake_settings(tmp_path, database_url=f"sqlite:///{tmp_path / 'serving.db'}")
    engine = serving_engine(tmp_path)
    stage = ScoringStage(engine, tmp_path / "models", interval_s=1.0)
    lake = Lake(spark, settings.lake_root)
    # 70 minutes of one compressor at 1 Hz, in two batches.
    first = readings(2400, compressors=1, start=START)
    land(settings, first)

    run_once(spark, settings, scoring=stage)

    assert _statuses(engine) == {
        "anomaly": "not_registered", "rul": "not_registered", "temp_forecast": "not_registered",
    }  # fmt: skip
    kinds = {r.model_id for r in lake.read(MODEL_SCORES).select("model_id").distinct().collect()}
    assert kinds == {PHYSICS_MODEL_ID}

    registry = ModelRegistry(engine, tmp_path / "models", org_id=ORG)
    manifest, signature, archive = zscore_bundle(KEY, version="3", model_id=ANOMALY_MODEL_ID)
    registry.register(
        manifest=manifest, signature=signature, archive=archive, kind="anomaly", evaluation={}
    )
    registry.promote(ANOMALY_MODEL_ID, "3")
    land(settings, readings(1800, compressors=1, start=START + timedelta(seconds=2400),
                            first_seq=2401))  # fmt: skip

    run_once(spark, settings, scoring=stage)

    assert _statuses(engine)["anomaly"] == "active"
    scores = lake.read(MODEL_SCORES)
    assert scores.filter(F.col("model_version").isNull() | (F.col("model_id") == "")).count() == 0
    anomaly = scores.filter(F.col("score_kind") == "anomaly")
    assert anomaly.count() > 0
    assert {(r.model_id, r.model_version) for r in anomaly.select("model_id", "model_version")
            .distinct().collect()} == {(ANOMALY_MODEL_ID, "3")}  # fmt: skip
    # The second batch's minutes are scored: from where it starts (its hour) to its end.
    newest = anomaly.agg(F.max("scored_at")).first()[0]
    assert newest >= (START + timedelta(seconds=4199)).replace(tzinfo=None, second=0)
    assert lake.read(MODEL_HOURS).count() >= 1
