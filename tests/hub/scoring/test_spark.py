"""The Spark wrappers give what the pure functions give, in the gold MODEL_SCORES schema."""

from __future__ import annotations

import pandas as pd
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.lakehouse.tables import SILVER_READINGS
from hub.scoring.bundles import AnomalyModel
from hub.scoring.rows import SCORE_COLUMNS
from hub.scoring.spark import (
    MODEL_HOURS_SCHEMA,
    hourly_view,
    hours_from_partials,
    minutes_from_partials,
    score_hours,
    score_minutes,
    score_partials,
    scores_schema,
    silver_start,
)
from shared.bundle import open_bundle
from shared.schema import SENSOR_FIELDS
from tests.edge_agent.bundles import zscore_bundle
from tests.hub.scoring.support import START, readings_frame
from tests.hub.scoring.test_hourly import DRIFT, hours_frame

KEY = Ed25519PrivateKey.generate()


def _rows(frame) -> pd.DataFrame:  # type: ignore[no-untyped-def]
    data = frame.toPandas().sort_values(["compressor_id", "score_kind", "scored_at"])
    return data.reset_index(drop=True)


def _silver(spark, readings: pd.DataFrame):  # type: ignore[no-untyped-def]
    """The readings as rows of the silver table's own schema (hub/lakehouse/tables.py)."""
    schema = SILVER_READINGS.schema
    frame = readings.assign(
        seq=range(1, len(readings) + 1), reading_flags=0, rule_flags=0, dt_s=2.0,
        batch_id="b1", received_at=readings["timestamp"],
        reading_date=readings["timestamp"].dt.date,
        **{f"{s}_flags": 0 for s in SENSOR_FIELDS},
    )  # fmt: skip
    return spark.createDataFrame(frame[[f.name for f in schema.fields]], schema=schema)


def test_minute_and_hour_stages_on_spark(spark) -> None:  # type: ignore[no-untyped-def]
    _, _, archive = zscore_bundle(KEY, version="9")
    bundle = open_bundle(archive, KEY.public_key())
    model = AnomalyModel(bundle.manifest, bundle.files)
    since = START + pd.Timedelta(minutes=65)
    readings = readings_frame(70, hot_from_minute=20)
    first_hour = START + pd.Timedelta(minutes=30)
    silver = _silver(spark, readings[readings["timestamp"] >= silver_start(first_hour, model)])

    minutes = score_minutes(silver, model, since=since)
    assert minutes.schema == scores_schema()
    got = _rows(minutes)
    assert list(got.columns) == SCORE_COLUMNS
    assert len(got) == 2 * 5 and (got["model_version"] == "9").all()
    assert got["scored_at"].min() == since.replace(tzinfo=None)

    hours = hourly_view(silver, model, interval_s=2.0, since=first_hour)
    assert hours.schema == MODEL_HOURS_SCHEMA
    hour = hours.toPandas().set_index("compressor_id")
    # One pass for both: the partials give the same minutes and hours.
    partials = score_partials(silver, model, since=first_hour).cache()
    pd.testing.assert_frame_equal(_rows(minutes_from_partials(partials, model, since=since)), got)
    from_partials = hours_from_partials(partials, interval_s=2.0).toPandas()
    pd.testing.assert_frame_equal(
        from_partials.set_index("compressor_id")[hour.columns], hour, check_dtype=False
    )
    partials.unpersist()
    assert len(hour) == 2  # 00:00 only: 01:00 has ten minutes, under half an hour of running
    assert hour.loc["C01", "alarm"] and not hour.loc["C02", "alarm"]

    history = spark.createDataFrame(hours_frame(), schema=MODEL_HOURS_SCHEMA)
    drift = _rows(score_hours(history, rul=None, drift=DRIFT, since=START + pd.Timedelta(hours=71)))
    status = drift[drift["score_kind"] == "drift_status"].set_index("compressor_id")["score"]
    assert status.to_dict() == {"C01": 1.0, "C02": 0.0, "C03": 0.0}
    assert (drift["model_id"] == "discharge-temp-drift").all() and (
        drift["model_version"] == "d1"
    ).all()
