"""Every lakehouse table: where it lives under the lake root, its schema, keys and partitions.

This module is the single description of the tables: `io` creates them from it,
the docs' schema section is generated from it (`python -m hub.lakehouse.tables`),
and the tests read every table back with an independent Delta reader against it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from pyspark.sql import types as T

from shared.schema import QUALITY_FIELDS, SENSOR_FIELDS

#: Rolling windows of the gold features: name -> seconds.
ROLLING_WINDOWS: dict[str, int] = {"1h": 3600, "4h": 4 * 3600, "24h": 24 * 3600}

#: The key of a compressor in every table.
COMPRESSOR_KEY = ("org_id", "station_id", "compressor_id")
_KEY = COMPRESSOR_KEY


def _f(name: str, kind: T.DataType, nullable: bool = True, doc: str = "") -> T.StructField:
    return T.StructField(name, kind, nullable, metadata={"comment": doc} if doc else {})


def _ids() -> list[T.StructField]:
    return [
        _f("org_id", T.StringType(), False, "tenant"),
        _f("station_id", T.StringType(), False),
        _f("compressor_id", T.StringType(), False),
    ]


@dataclass(frozen=True)
class TableSpec:
    name: str
    layer: str
    schema: T.StructType
    keys: tuple[str, ...]
    partition_by: tuple[str, ...] = ()
    description: str = ""
    properties: dict[str, str] = field(default_factory=dict)

    @property
    def parts(self) -> tuple[str, str]:
        return self.layer, self.name


def _bronze_schema() -> T.StructType:
    from hub.lakehouse.bronze import reading_spark_schema

    reading = reading_spark_schema()
    return T.StructType(
        [
            *reading.fields,
            _f("org_id", T.StringType(), True, "from the landing path (verified at ingest)"),
            _f("batch_id", T.StringType(), True, "landing file name"),
            _f("received_at", T.TimestampType(), True, "when the hub made the batch durable"),
            _f("landed_file", T.StringType(), True),
            _f("reading_date", T.DateType(), True, "partition: UTC date of timestamp"),
        ]
    )


def _silver_schema() -> T.StructType:
    from hub.lakehouse.bronze import reading_spark_schema

    reading = {f.name: f for f in reading_spark_schema().fields}
    return T.StructType(
        [
            *_ids(),
            _f("timestamp", T.TimestampType(), False, "gateway time of the poll (UTC)"),
            _f("seq", T.LongType(), False, "per-station sequence number from the edge"),
            _f("operating_state", T.StringType(), False),
            *(reading[s] for s in SENSOR_FIELDS),
            *(reading[q] for q in QUALITY_FIELDS),
            _f(
                "reading_flags", T.IntegerType(), False, "gateway flags (shared.schema.ReadingFlag)"
            ),
            *(
                _f(f"{s}_flags", T.ShortType(), False, "quality rules (lakehouse.flags.SensorRule)")
                for s in SENSOR_FIELDS
            ),
            _f("rule_flags", T.IntegerType(), False, "quality rules (lakehouse.flags.ReadingRule)"),
            _f("dt_s", T.DoubleType(), True, "seconds since the compressor's previous reading"),
            _f("batch_id", T.StringType(), False, "batch the kept copy arrived in"),
            _f("received_at", T.TimestampType(), False),
            _f("reading_date", T.DateType(), False, "partition"),
        ]
    )


def _status_fields() -> list[T.StructField]:
    return [
        _f(
            f"{s}_status",
            T.StringType(),
            True,
            "normal | warning | critical: the row's worst value against config/thresholds.yaml "
            "(null: no value, or no limit for the sensor)",
        )
        for s in SENSOR_FIELDS
    ]


def _calendar_fields() -> list[T.StructField]:
    return [
        _f("hour_of_day", T.ByteType(), True, "0-23 in the station's time zone (fleet file)"),
        _f("day_of_week", T.ByteType(), True, "ISO: 1 Monday .. 7 Sunday, station time"),
        _f("is_weekend", T.BooleanType(), True, "Saturday or Sunday, station time"),
    ]


def _sensor_minute_fields(sensor: str) -> list[T.StructField]:
    return [
        _f(f"{sensor}_n", T.IntegerType(), False, "usable values in the minute"),
        _f(f"{sensor}_sum_milli", T.LongType(), False, "exact sum, thousandths of the unit"),
        _f(f"{sensor}_mean", T.DoubleType()),
        _f(f"{sensor}_min", T.FloatType()),
        _f(f"{sensor}_max", T.FloatType()),
        _f(f"{sensor}_n_fault", T.IntegerType(), False, "values with a sensor-fault flag"),
    ]


def rolling_columns(sensor: str) -> list[str]:
    return [
        f"{sensor}_{stat}_{window}" for window in ROLLING_WINDOWS for stat in ("mean", "std", "max")
    ]


def _sensor_rolling_fields(sensor: str) -> list[T.StructField]:
    return [
        *(_f(name, T.DoubleType()) for name in rolling_columns(sensor)),
        _f(f"{sensor}_roc_per_h", T.DoubleType(), True, "1 h mean now minus 1 h mean an hour ago"),
    ]


#: Base (per-minute) columns of features_1m, recomputed from silver.
def minute_base_columns() -> list[str]:
    names = ["n_readings", "n_running", "n_comm_loss", "n_clock_skew"]
    for sensor in SENSOR_FIELDS:
        names += [f.name for f in _sensor_minute_fields(sensor)]
    return names


def _features_schema() -> T.StructType:
    return T.StructType(
        [
            *_ids(),
            _f("minute_start", T.TimestampType(), False),
            _f("n_readings", T.IntegerType(), False, "readings used (late arrivals excluded)"),
            _f("n_running", T.IntegerType(), False, "readings in the running state"),
            _f("n_comm_loss", T.IntegerType(), False),
            _f("n_clock_skew", T.IntegerType(), False),
            *(fld for s in SENSOR_FIELDS for fld in _sensor_minute_fields(s)),
            _f("pressure_differential_psi", T.DoubleType()),
            _f("compression_ratio", T.DoubleType(), True, "absolute discharge / suction"),
            _f("hp_efficiency", T.DoubleType(), True, "GPSA rule-of-thumb bhp / measured bhp"),
            *(fld for s in SENSOR_FIELDS for fld in _sensor_rolling_fields(s)),
            *_status_fields(),
            *_calendar_fields(),
            _f("feature_date", T.DateType(), False, "partition"),
        ]
    )


def _aggregate_fields() -> list[T.StructField]:
    fields = [
        _f("n_readings", T.LongType(), False),
        _f("n_running_minutes", T.IntegerType(), False),
    ]
    for sensor in SENSOR_FIELDS:
        fields += [
            _f(f"{sensor}_n", T.LongType(), False),
            _f(f"{sensor}_sum_milli", T.LongType(), False),
            _f(f"{sensor}_mean", T.DoubleType()),
            _f(f"{sensor}_min", T.FloatType()),
            _f(f"{sensor}_max", T.FloatType()),
            _f(f"{sensor}_std", T.DoubleType(), True, "std of the 1-minute means"),
            _f(f"{sensor}_running_mean", T.DoubleType(), True, "mean over running minutes"),
        ]
    return fields


def _hourly_schema() -> T.StructType:
    return T.StructType(
        [
            *_ids(),
            _f("hour_start", T.TimestampType(), False),
            *_aggregate_fields(),
            _f("health_score_min", T.IntegerType(), True, "0-100, physics/threshold based"),
            _f("health_score_mean", T.DoubleType()),
            *_performance_fields(),
            *_status_fields(),
            *_calendar_fields(),
            _f("aggregate_date", T.DateType(), False, "partition"),
        ]
    )


def _performance_fields() -> list[T.StructField]:
    """hub/lakehouse/performance.py over the hour's running means (docs/maintenance.md)."""
    return [
        _f("stage_compression_ratio", T.DoubleType(), True, "per stage, absolute pressures"),
        _f("ideal_discharge_temp_f", T.DoubleType(), True, "isentropic, °F"),
        _f("discharge_temp_excess_f", T.DoubleType(), True, "measured minus ideal, °F"),
        _f("isentropic_gas_hp", T.DoubleType(), True, "hp, from flow and pressures"),
        _f("adiabatic_efficiency", T.DoubleType(), True, "gas hp / (brake hp x mech. eff.)"),
    ]


def _daily_schema() -> T.StructType:
    return T.StructType([*_ids(), _f("day", T.DateType(), False), *_aggregate_fields()])


def _dq_schema() -> T.StructType:
    counts = [
        ("n_received", "rows in bronze (every delivery)"),
        ("n_readings", "distinct readings in silver"),
        ("n_duplicates", "n_received - n_readings"),
        ("n_flagged", "readings with any flag"),
        ("n_gap", ""),
        ("n_clock_skew", ""),
        ("n_late", ""),
        ("n_future", "stamped more than late_horizon_h ahead of receipt; left out of gold"),
        ("n_comm_loss", ""),
        ("n_quality", "values the gateway marked not OK"),
        ("n_instrument", ""),
        ("n_range", ""),
        ("n_rate", ""),
        ("n_stuck", ""),
    ]
    return T.StructType(
        [
            *_ids(),
            _f("hour_start", T.TimestampType(), False),
            *(_f(name, T.LongType(), False, doc) for name, doc in counts),
            _f("gap_seconds", T.DoubleType(), False, "time beyond the cadence before gap readings"),
            _f("expected_readings", T.DoubleType(), False, "3600 / the station's cadence"),
            _f("aggregate_date", T.DateType(), False, "partition"),
        ]
    )


def _episode_schema() -> T.StructType:
    return T.StructType(
        [
            _f("episode_id", T.StringType(), False, "stable id: hash of the key"),
            *_ids(),
            _f("condition", T.StringType(), False),
            _f("category", T.StringType(), False, "equipment | data_quality"),
            _f("signal", T.StringType(), False),
            _f("first_seen_at", T.TimestampType(), False, "first minute of the run that opened it"),
            _f("opened_at", T.TimestampType(), False, "minute the hysteresis opened it"),
            _f("last_seen_at", T.TimestampType(), False, "last minute at or above warning"),
            _f("closed_at", T.TimestampType(), True, "null while open"),
            _f("status", T.StringType(), False, "open | closed"),
            _f("severity", T.StringType(), False, "warning | critical (highest sustained)"),
            _f("escalated_at", T.TimestampType(), True),
            _f("peak_value", T.DoubleType(), False),
            _f("peak_at", T.TimestampType(), False),
            _f("warning_threshold", T.DoubleType(), False),
            _f("critical_threshold", T.DoubleType()),
            _f("minutes_active", T.IntegerType(), False, "minutes at or above warning"),
        ]
    )


def _health_schema() -> T.StructType:
    return T.StructType(
        [
            *_ids(),
            _f("as_of", T.TimestampType(), False, "the compressor's latest minute"),
            _f("operating_state", T.StringType(), False, "running | not_running"),
            _f("health_score", T.IntegerType(), True),
            _f("status", T.StringType(), False, "healthy | warning | critical"),
            _f("open_warning", T.IntegerType(), False),
            _f("open_critical", T.IntegerType(), False),
            *(_f(f"{s}_mean", T.DoubleType()) for s in SENSOR_FIELDS),
            _f("hp_efficiency", T.DoubleType()),
        ]
    )


def _scores_schema() -> T.StructType:
    return T.StructType(
        [
            *_ids(),
            _f("scored_at", T.TimestampType(), False, "start of the scored window"),
            _f("model_id", T.StringType(), False),
            _f("model_version", T.StringType(), False),
            _f(
                "score_kind",
                T.StringType(),
                False,
                "health | anomaly | temp_forecast_f | rul_hours",
            ),
            _f("score", T.DoubleType()),
            _f("horizon_s", T.LongType(), True, "forecasts: how far ahead"),
            _f("lower", T.DoubleType()),
            _f("upper", T.DoubleType()),
        ]
    )


def _model_hours_schema() -> T.StructType:
    from hub.scoring.spark import MODEL_HOURS_SCHEMA

    return MODEL_HOURS_SCHEMA


def _freshness_schema() -> T.StructType:
    return T.StructType(
        [
            _f("org_id", T.StringType(), False),
            _f("station_id", T.StringType(), False),
            _f("last_reading_at", T.TimestampType(), False),
            _f("last_received_at", T.TimestampType(), False),
            _f("compressors_reporting", T.IntegerType(), False, "in the last hour of its data"),
            _f("readings_last_hour", T.LongType(), False),
            _f("lag_p50_s", T.DoubleType(), True, "receipt minus reading time, last hour"),
            _f("lag_p95_s", T.DoubleType()),
        ]
    )


_MINUTE_KEY = (*_KEY, "minute_start")
_HOUR_KEY = (*_KEY, "hour_start")

BRONZE_READINGS = TableSpec(
    "readings", "bronze", _bronze_schema(), (), ("reading_date",),
    "Landed batches as received plus ingest metadata; append-only.",
)  # fmt: skip
SILVER_READINGS = TableSpec(
    "readings", "silver", _silver_schema(), (*_KEY, "timestamp"), ("reading_date",),
    "Typed, one row per (org, station, compressor, timestamp), quality rules as flags.",
)  # fmt: skip
FEATURES_1M = TableSpec(
    "features_1m", "gold", _features_schema(), _MINUTE_KEY, ("feature_date",),
    "Per compressor-minute: exact aggregates, physics features, rolling 1h/4h/24h (running).",
)  # fmt: skip
HOURLY = TableSpec(
    "hourly_aggregates", "gold", _hourly_schema(), _HOUR_KEY, ("aggregate_date",),
    "Per compressor-hour aggregates and health score.",
)  # fmt: skip
DAILY = TableSpec(
    "daily_aggregates", "gold", _daily_schema(), (*_KEY, "day"), (),
    "Per compressor-day aggregates; running means feed the baselines.",
)  # fmt: skip
DATA_QUALITY = TableSpec(
    "data_quality_hourly", "gold", _dq_schema(), _HOUR_KEY, ("aggregate_date",),
    "Per compressor-hour counts of deliveries, duplicates and every quality rule.",
)  # fmt: skip
ALERT_EPISODES = TableSpec(
    "alert_episodes", "gold", _episode_schema(), (*_KEY, "condition", "first_seen_at"), (),
    "One row per episode of a condition on a compressor (open -> updated -> closed).",
)  # fmt: skip
COMPRESSOR_HEALTH = TableSpec(
    "compressor_health", "gold", _health_schema(), _KEY, (),
    "Latest health per compressor.",
)  # fmt: skip
MODEL_SCORES = TableSpec(
    "model_scores", "gold", _scores_schema(), (*_KEY, "model_id", "score_kind", "scored_at"), (),
    "Model outputs per compressor: the physics health score hourly; with champion models "
    "registered, anomaly per minute, RUL and drift per hour (hub/scoring), model version on "
    "every row.",
)  # fmt: skip
MODEL_HOURS = TableSpec(
    "model_hours", "gold", _model_hours_schema(), (*_KEY, "hour"), (),
    "Per compressor-hour inputs of the RUL and drift models (hub/scoring), so a micro-batch "
    "scores the hours it touched without re-reading days of silver.",
)  # fmt: skip
STATION_FRESHNESS = TableSpec(
    "station_freshness", "gold", _freshness_schema(), ("org_id", "station_id"), (),
    "How current each station's data is (no wall clock: staleness is judged when read).",
)  # fmt: skip

ALL_TABLES: tuple[TableSpec, ...] = (
    BRONZE_READINGS,
    SILVER_READINGS,
    FEATURES_1M,
    HOURLY,
    DAILY,
    DATA_QUALITY,
    ALERT_EPISODES,
    COMPRESSOR_HEALTH,
    MODEL_SCORES,
    MODEL_HOURS,
    STATION_FRESHNESS,
)
SILVER_AND_GOLD: tuple[TableSpec, ...] = tuple(t for t in ALL_TABLES if t.layer != "bronze")


@dataclass(frozen=True)
class LakePaths:
    root: str

    def _join(self, *parts: str) -> str:
        root = self.root.rstrip("/")
        if root.startswith("file:///"):  # Hadoop's spelling: Delta refuses two for one location
            root = "file:/" + root.removeprefix("file:///")
        return "/".join([root, *parts])

    def table(self, spec: TableSpec) -> str:
        return self._join(*spec.parts)

    @property
    def bronze_readings(self) -> str:
        return self.table(BRONZE_READINGS)

    @property
    def silver_readings(self) -> str:
        return self.table(SILVER_READINGS)

    def checkpoint(self, name: str) -> str:
        return self._join("_checkpoints", name)


def schema_markdown() -> str:
    """The schema section of docs/lakehouse.md, generated from the specs above."""
    lines: list[str] = []
    for spec in ALL_TABLES:
        lines.append(f"### `{spec.layer}/{spec.name}`\n")
        lines.append(f"{spec.description}\n")
        keys = ", ".join(spec.keys) or "none (append-only)"
        parts = ", ".join(spec.partition_by) or "none"
        lines.append(f"Key: {keys}. Partitioned by: {parts}.\n")
        lines.append("| column | type | null | note |")
        lines.append("|---|---|---|---|")
        for fld in spec.schema.fields:
            note = fld.metadata.get("comment", "")
            null = "yes" if fld.nullable else "no"
            lines.append(f"| `{fld.name}` | {fld.dataType.simpleString()} | {null} | {note} |")
        lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    print(schema_markdown())
