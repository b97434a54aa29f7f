"""Per-sensor status of gold rows: the Spark Columns agree with the pure function, one definition."""

from __future__ import annotations

from pathlib import Path

from pyspark.sql import types as T

from hub.lakehouse.sensor_status import row_status, with_sensor_status
from shared.thresholds import load_sensor_limits

COLUMNS = [
    "vibration_mms_mean", "vibration_mms_max", "discharge_temp_f_mean", "discharge_temp_f_max",
    "suction_pressure_psi_mean", "suction_pressure_psi_min", "discharge_pressure_psi_mean",
]  # fmt: skip
ROWS = [
    (3.0, 4.0, 230.0, 250.0, 60.0, 55.0, 1100.0),  # all normal
    (4.0, 4.5, 255.0, 262.0, 30.0, 24.0, 1300.0),  # at or past every warning
    (6.0, 9.0, 280.0, 305.0, 22.0, 19.0, 1450.0),  # critical (suction: its minimum)
    (None, None, float("nan"), float("nan"), 60.0, None, None),  # no extreme -> NULL
]


def test_spark_status_equals_the_pure_function(spark, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    schema = T.StructType([T.StructField(c, T.DoubleType()) for c in COLUMNS])
    frame = spark.createDataFrame(ROWS, schema)
    shipped = load_sensor_limits()
    stricter = tmp_path / "thresholds.yaml"
    stricter.write_text(
        "sensors:\n  vibration_mms: {direction: above, warning: 2.0, critical: 3.5}\n"
    )
    for limits in (shipped, load_sensor_limits(stricter)):
        got = [
            {k: v for k, v in row.asDict().items() if k.endswith("_status")}
            for row in with_sensor_status(frame, limits).collect()
        ]
        expected = [row_status(dict(zip(COLUMNS, row, strict=True)), limits) for row in ROWS]
        assert got == expected
    assert [r["vibration_mms_status"] for r in got] == ["critical", "critical", "critical", None]
    pure = [row_status(dict(zip(COLUMNS, row, strict=True)), shipped) for row in ROWS]
    assert [p["discharge_temp_f_status"] for p in pure] == ["normal", "warning", "critical", None]
    # Low is bad for suction: judged on the minimum (a row without one has no status).
    assert [p["suction_pressure_psi_status"] for p in pure] == [
        "normal",
        "warning",
        "critical",
        None,
    ]
    assert [p["discharge_pressure_psi_status"] for p in pure] == [
        "normal", "warning", "critical", None,
    ]  # fmt: skip
