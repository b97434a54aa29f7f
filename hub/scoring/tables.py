"""Proposed gold table for the lakehouse owner (hub/lakehouse/tables.py): the hourly model view.

The RUL and drift models look back days (hub/scoring/spark.py `history_days`); storing
their hourly input per compressor-hour lets each micro-batch recompute only the hours it
touched instead of re-reading days of silver. Keys and schema as `MODEL_HOURS` below;
written like the other hourly gold tables (replace the touched (compressor, hour) cells).

Score kinds hub/scoring writes into gold `model_scores` (no new columns needed):
`anomaly` (per minute), `rul_hours` (per hour; score NULL = no degradation detected,
lower/upper = 10 %/90 % quantiles, horizon_s = the RUL in seconds), `drift_status`
(1 drifting, 0 no drift), `drift_rate_f_per_day` (lower/upper = 90 % band),
`temp_forecast_f` (horizon_s 86400), `drift_warning_h` / `drift_critical_h`.
"""

from __future__ import annotations

from hub.lakehouse.tables import TableSpec
from hub.scoring.spark import MODEL_HOURS_SCHEMA

MODEL_HOURS = TableSpec(
    "model_hours", "gold", MODEL_HOURS_SCHEMA, ("org_id", "station_id", "compressor_id", "hour"),
    (), "Per compressor-hour inputs of the RUL and drift models (hub/scoring/anomaly.py).",
)  # fmt: skip
