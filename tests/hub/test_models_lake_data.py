"""Training data from the lakehouse: silver thinned in Spark, then the shared features in pandas."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest

from hub.lakehouse.flags import SensorRule
from hub.lakehouse.io import Lake
from hub.lakehouse.tables import SILVER_READINGS
from hub.models_lifecycle.lake_data import silver_training_readings, thin_silver
from models.compressor_features import feature_frame
from shared.features import FeatureSpec
from shared.reading_table import READING_SCHEMA
from shared.schema import READING_COLUMNS, Quality
from tests.hub.lakehouse.frames import START, naive, silver_frame, silver_rows

pytestmark = pytest.mark.spark


def test_silver_is_thinned_per_compressor_and_flagged_values_count_as_missing(
    spark, tmp_path: Path  # type: ignore[no-untyped-def]
) -> None:
    n = 300  # five minutes at 1 Hz
    stuck = [int(SensorRule.STUCK) if 120 <= i < 180 else 0 for i in range(n)]
    frame = silver_frame(
        spark,
        silver_rows(n, compressor="C01", discharge_temp_f_flags=stuck),
        silver_rows(n, compressor="C02", first_seq=1000),
        silver_rows(n, compressor="C09", org="org-b"),
    )
    thinned = thin_silver(
        frame, org_id="org-a", start=naive(START), end=naive(START + timedelta(seconds=240)),
        sample_s=60,
    )  # fmt: skip
    rows = thinned.orderBy("compressor_id", "timestamp").collect()
    assert list(thinned.columns) == list(READING_COLUMNS)
    # One reading per compressor-minute (the minute's first), org-a only, end bound excluded.
    assert [(r.compressor_id, r.seq) for r in rows] == [
        ("C01", 1), ("C01", 61), ("C01", 121), ("C01", 181),
        ("C02", 1000), ("C02", 1060), ("C02", 1120), ("C02", 1180),
    ]  # fmt: skip
    # The stuck sensor's value (minute 3 of C01) is not OK any more; the others are.
    by_seq = {(r.compressor_id, r.seq): r for r in rows}
    assert by_seq[("C01", 121)].discharge_temp_f_quality == int(Quality.OUT_OF_RANGE)
    assert by_seq[("C01", 61)].discharge_temp_f_quality == int(Quality.OK)
    assert by_seq[("C01", 121)].vibration_mms_quality == int(Quality.OK)

    # The same through the lake: silver as a Delta table, read back as reading rows.
    lake_root = str(tmp_path / "lake")
    frame.write.format("delta").partitionBy("reading_date").save(
        Lake(spark, lake_root).path(SILVER_READINGS)
    )
    table = silver_training_readings(
        spark, lake_root, org_id="org-a", start=START, end=START + timedelta(seconds=240)
    )
    assert table.schema == READING_SCHEMA and table.num_rows == 8
    features = feature_frame(table, FeatureSpec(window_s=120, min_samples=1))
    c01 = features[features["compressor_id"] == "C01"].reset_index(drop=True)
    assert np.isnan(c01.loc[2, "discharge_temp_f"])  # flagged in silver -> missing
    assert np.isfinite(c01.loc[2, "vibration_mms"])
